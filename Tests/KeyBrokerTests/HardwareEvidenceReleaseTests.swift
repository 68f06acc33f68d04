import Attestation
import Foundation
import Logging
import Sodium
import Synchronization
import TestVectors
import Testing
import Trust

@testable import KeyBroker

/// Key release to a TDX node and a TDX+GPU node with evidence from the public vectors.
///
/// A vector report carries fixed report data, not SHA-512(nonce ‖ key ‖ role) for a nonce this
/// broker just issued. The broker's internal `testBinding` (reachable only through
/// `@testable import`) stands in for the TEE: for exactly one (nonce, ephemeral key) pair it says
/// "this request's binding is the vector's report data and GPU nonce". Every other request keeps
/// the real binding, so the verifier, policy, log entry and sealed bundle all run for real, and a
/// request with another nonce or key is still refused.
@Suite(.timeLimit(.minutes(2))) struct HardwareEvidenceReleaseTests {
    static let at = TestVectors.date("2025-07-19T10:00:34Z")
    static let gpuNonce = hexBytes("931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb")

    struct Vectors {
        let quote: [UInt8]
        let reportData: [UInt8]
        let mrTD: String
        let gpu: Evidence
        let collateral: TDXCollateral
    }

    static func vectors() throws -> Vectors {
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        // Body offsets (TD 1.0): MRTD at 48+136, REPORTDATA at 48+520.
        let report = Array(quote[(48 + 520)..<(48 + 584)])
        let mrTD = Hex.encode(Array(quote[(48 + 136)..<(48 + 184)]))
        let gpuHex = try TestVectors.text("nvidia/nvtrust/hopperAttestationReport.txt")
        let gpu = Evidence(
            kind: .nvidiaGPU, report: try #require(Hex.decode(gpuHex.trimmingCharacters(in: .whitespacesAndNewlines))),
            certificates: try CertificateFile.derCertificates(
                from: try TestVectors.bytes("nvidia/nvtrust/hopperCertChain.txt")))
        let collateral = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        return Vectors(quote: quote, reportData: report, mrTD: mrTD, gpu: gpu, collateral: collateral)
    }

    /// The one (nonce, key) the stand-in TEE "signed" the vector for.
    final class Binding: Sendable {
        let expected = Mutex<(nonce: [UInt8], key: [UInt8])?>(nil)
        let reportData: [UInt8]
        let gpuNonce: [UInt8]
        init(reportData: [UInt8], gpuNonce: [UInt8]) {
            self.reportData = reportData
            self.gpuNonce = gpuNonce
        }
        func callAsFunction(_ request: AttestRequest) -> (reportData: [UInt8], gpuNonce: [UInt8]?) {
            let normal = ReportData.binding(
                nonce: request.nonce, ephemeralPublicKey: request.ephemeralPublicKey.bytes, role: request.role)
            return expected.withLock { pair in
                guard let pair, pair.nonce == request.nonce, pair.key == request.ephemeralPublicKey.bytes else {
                    return (normal, nil)
                }
                return (reportData, gpuNonce)
            }
        }
    }

    static func broker(_ f: BrokerFixture, _ v: Vectors, binding: Binding) throws -> KeyBrokerCore {
        f.clock.advance(by: at.timeIntervalSince(f.clock.now))
        let verifier = CompositeVerifier(verifiers: [
            .simulated: SimulatedVerifier(trustedPlatformKeys: [f.platform.publicKey]),
            .tdx: TDXVerifier(collateral: [v.collateral]), .nvidiaGPU: NVIDIAGPUVerifier(),
        ])
        return try KeyBrokerCore(
            configuration: f.configuration, store: try f.openStore(), verifier: verifier,
            clock: { [clock = f.clock] in clock.now }, logger: Logger(label: "test"),
            testBinding: { binding($0) })
    }

    static func fixture(_ v: Vectors) throws -> BrokerFixture {
        let simulated = RolePolicy(evidence: [
            "simulated": EvidencePolicy(measurements: [String(repeating: "5a", count: 48)])
        ])
        return try BrokerFixture(
            policyOverride: ReleasePolicy(roles: [
                "preprocessor": simulated, "postprocessor": simulated,
                "shard-0": RolePolicy(evidence: ["tdx": EvidencePolicy(measurements: [v.mrTD])]),
                "shard-1": RolePolicy(evidence: ["tdx+nvidia-gpu": EvidencePolicy(measurements: [v.mrTD])]),
            ]))
    }

    /// Asks for a nonce, arms the binding for (nonce, key), and attests with `evidence`.
    static func attest(
        _ broker: KeyBrokerCore, _ binding: Binding, role: String, evidence: Evidence, armKey: BoxKeyPair? = nil,
        requestKey: BoxKeyPair = .generate()
    ) -> KMSResponse {
        let nonce = broker.handle(.nonce(role: role)).nonce!.nonce
        binding.expected.withLock { $0 = (nonce, (armKey ?? requestKey).publicKey.bytes) }
        return broker.handle(
            .attest(
                AttestRequest(role: role, nonce: nonce, ephemeralPublicKey: requestKey.publicKey, evidence: evidence)))
    }

    @Test("a TDX-attested node gets its keys; a logged release names kind and MRTD")
    func tdxRelease() throws {
        let v = try Self.vectors()
        let f = try Self.fixture(v)
        let binding = Binding(reportData: v.reportData, gpuNonce: Self.gpuNonce)
        let broker = try Self.broker(f, v, binding: binding)
        let key = BoxKeyPair.generate()
        let response = Self.attest(
            broker, binding, role: "shard-0", evidence: Evidence(kind: .tdx, report: v.quote), requestKey: key)
        #expect(response.status == .ok, "\(response.status)")
        let bundle = try KeyBundle.open(try #require(response.sealedBundle), with: key)
        #expect(bundle.role == "shard-0")
        guard case .keyRelease(let release) = try LogEntry(encoded: try f.openStore().entries().last!) else {
            Issue.record("last entry is not a key release")
            return
        }
        #expect(release.evidenceKind == "tdx" && release.measurement == v.mrTD)
    }

    @Test("the same TDX quote under another nonce or key is refused by report-data")
    func tdxOtherNonceOrKey() throws {
        let v = try Self.vectors()
        let f = try Self.fixture(v)
        let binding = Binding(reportData: v.reportData, gpuNonce: Self.gpuNonce)
        let broker = try Self.broker(f, v, binding: binding)
        let otherKey = Self.attest(
            broker, binding, role: "shard-0", evidence: Evidence(kind: .tdx, report: v.quote), armKey: .generate())
        #expect(otherKey.refusedCheck == "report-data")
        // A flipped quote byte: the TDX half fails by name even with the binding armed.
        var flipped = v.quote
        flipped[0x3C] ^= 1
        #expect(
            Self.attest(broker, binding, role: "shard-0", evidence: Evidence(kind: .tdx, report: flipped)).refusedCheck
                == "quote-signature")
        // A kind the role does not list.
        #expect(
            Self.attest(
                broker, binding, role: "shard-0",
                evidence: Evidence(
                    composite: .tdxWithNVIDIAGPU,
                    cpu: Evidence(kind: .tdx, report: v.quote), device: v.gpu)
            ).refusedCheck == "evidence-kind")
    }

    @Test("a TDX+GPU node gets its keys only when both halves verify")
    func compositeRelease() throws {
        let v = try Self.vectors()
        let f = try Self.fixture(v)
        let binding = Binding(reportData: v.reportData, gpuNonce: Self.gpuNonce)
        let broker = try Self.broker(f, v, binding: binding)
        let good = Evidence(composite: .tdxWithNVIDIAGPU, cpu: Evidence(kind: .tdx, report: v.quote), device: v.gpu)
        let key = BoxKeyPair.generate()
        let response = Self.attest(broker, binding, role: "shard-1", evidence: good, requestKey: key)
        #expect(response.status == .ok, "\(response.status)")
        #expect(try KeyBundle.open(try #require(response.sealedBundle), with: key).role == "shard-1")

        var badGPU = v.gpu
        badGPU.report[badGPU.report.count - 1] ^= 1  // the signature's last byte
        let gpuHalf = Self.attest(
            broker, binding, role: "shard-1",
            evidence: Evidence(
                composite: .tdxWithNVIDIAGPU, cpu: Evidence(kind: .tdx, report: v.quote), device: badGPU))
        #expect(gpuHalf.refusedCheck == "gpu-signature")
        var badCPU = v.quote
        badCPU[48 + 200] ^= 1
        let cpuHalf = Self.attest(
            broker, binding, role: "shard-1",
            evidence: Evidence(
                composite: .tdxWithNVIDIAGPU, cpu: Evidence(kind: .tdx, report: badCPU), device: v.gpu))
        #expect(cpuHalf.refusedCheck == "quote-signature")
        // Without the armed binding the GPU nonce must derive from this request's report data.
        let unbound = Self.attest(broker, binding, role: "shard-1", evidence: good, armKey: .generate())
        #expect(unbound.refusedCheck == "report-data")
        // The TDX half alone is not what shard-1's policy accepts.
        #expect(
            Self.attest(broker, binding, role: "shard-1", evidence: Evidence(kind: .tdx, report: v.quote)).refusedCheck
                == "evidence-kind")
    }
}

private func hexBytes(_ text: String) -> [UInt8] { Hex.decode(text)! }
