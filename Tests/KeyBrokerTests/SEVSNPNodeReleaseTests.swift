import BrokerClient
import Foundation
import Logging
import Sodium
import Synchronization
import TestVectors
import Testing
import Trust
import ZeroMQ

@testable import Attestation
@testable import KeyBroker

/// The SEV-SNP path a node takes, end to end over the broker's socket: the node's broker client
/// asks for a nonce, collects evidence through configfs-tsm (`ConfigFSTSMProvider`, here over a
/// stand-in tree in a temporary directory — its `kernel` hook is internal, reachable only through
/// `@testable import`), and gets keys from a broker with a SEV-SNP policy.
///
/// The report is a real one from the public vectors, so it carries its own fixed report data, not
/// SHA-512(nonce ‖ key ‖ role) for this broker's nonce. The stand-in kernel plays the TEE: it
/// reads the report data the node wrote to `inblob` and tells the broker's internal
/// `testBinding` "this binding is what the vector report carries"; every other binding stays the
/// real one. So the chain, signature, measurement, policy, nonce, log entry and sealed bundle all
/// run for real, and a report made for another key or nonce is refused by `report-data`.
@Suite(.timeLimit(.minutes(1))) struct SEVSNPNodeReleaseTests {
    static let at = TestVectors.date("2024-01-01T00:00:00Z")

    struct Vector {
        let report: [UInt8]
        let certificateTable: [UInt8]
        var reportData: [UInt8] { Array(report[0x50..<0x90]) }
        var measurement: String { Hex.encode(Array(report[0x90..<0xC0])) }
    }

    static func vector() throws -> Vector {
        let chain = try CertificateFile.derCertificates(
            from: TestVectors.bytes("sev-snp/amd-roots/go-sev-guest_ask_ark_milan.pem"))
        let table = SEVSNPCertificateTable.build([
            (.vcek, try TestVectors.bytes("sev-snp/go-sev-guest/vcek.der")), (.ask, chain[0]), (.ark, chain[1]),
        ])
        return Vector(report: try TestVectors.bytes("sev-snp/go-sev-guest/attestation.bin"), certificateTable: table)
    }

    /// The bindings the stand-in TEE vouched for, each mapped to the report data it "signed".
    final class TEE: Sendable {
        let vouched = Mutex<[[UInt8]: [UInt8]]>([:])
        let vector: Vector
        /// When set, the TEE vouches for another binding than the one the node asked for (a report
        /// made for another key or nonce).
        let misbind: Bool

        init(vector: Vector, misbind: Bool) {
            self.vector = vector
            self.misbind = misbind
        }

        func kernel(_ event: ConfigFSTSMProvider.Event, _ entry: URL) throws {
            func put(_ name: String, _ bytes: [UInt8]) throws {
                try Data(bytes).write(to: entry.appendingPathComponent(name))
            }
            switch event {
            case .created:
                try put("provider", Array("sev_guest\n".utf8))
                try put("generation", Array("0\n".utf8))
                try put("inblob", [])
            case .wroteInblob:
                var asked = [UInt8](try Data(contentsOf: entry.appendingPathComponent("inblob")))
                if misbind { asked[0] ^= 1 }
                vouched.withLock { $0[asked] = vector.reportData }
                try put("outblob", vector.report)
                try put("auxblob", vector.certificateTable)
                try put("generation", Array("1\n".utf8))
            case .removing:
                for name in try FileManager.default.contentsOfDirectory(atPath: entry.path) {
                    try FileManager.default.removeItem(at: entry.appendingPathComponent(name))
                }
            }
        }

        func binding(_ request: AttestRequest) -> (reportData: [UInt8], gpuNonce: [UInt8]?) {
            let real = ReportData.binding(
                nonce: request.nonce, ephemeralPublicKey: request.ephemeralPublicKey.bytes, role: request.role)
            return (vouched.withLock { $0[real] } ?? real, nil)
        }
    }

    /// Attests as shard-0; the fixture comes back too, as it owns the broker's state directory.
    func attest(misbind: Bool) async throws -> (Result<KeyBundle, any Error>, BrokerFixture) {
        let v = try Self.vector()
        let f = try BrokerFixture()
        f.clock.advance(by: Self.at.timeIntervalSince(f.clock.now))
        var configuration = f.configuration
        // The report's guest policy allows debug (0xB0000): the role's SEV-SNP policy must too.
        configuration.policy.roles["shard-0"] = RolePolicy(evidence: [
            "sev-snp": EvidencePolicy(measurements: [v.measurement], allowDebug: true)
        ])
        let tee = TEE(vector: v, misbind: misbind)
        let broker = try KeyBrokerCore(
            configuration: configuration, store: try f.openStore(),
            verifier: CompositeVerifier(verifiers: [.sevSNP: SEVSNPVerifier()]),
            clock: { [clock = f.clock] in clock.now }, logger: Logger(label: "test"), testBinding: { tee.binding($0) })
        let context = try ZMQContext()
        let service = KeyBrokerService(core: broker, context: context, endpoint: "tcp://127.0.0.1:0")
        let endpoint = try service.start()
        defer { service.stop() }

        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tsm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let provider = ConfigFSTSMProvider(root: root, privilegeLevel: nil, kind: .sevSNP, kernel: tee.kernel)
        let client = KeyBrokerClient(endpoint: endpoint, context: context, timeout: .seconds(10))
        do {
            let bundle = try await client.attest(
                role: "shard-0", provider: provider, pinnedBrokerKey: broker.identityPublicKey)
            return (.success(bundle), f)
        } catch {
            return (.failure(error), f)
        }
    }

    @Test func aSEVSNPReportThroughConfigFSTSMGetsTheRolesKeys() async throws {
        let (outcome, f) = try await attest(misbind: false)
        let bundle = try outcome.get()
        #expect(bundle.role == "shard-0")
        #expect(bundle.certificate.role == "shard-0")
        // The release is in the log, with the evidence kind that earned it.
        let ledger = try KeyBrokerStore.readLedger(path: f.configuration.statePath)
        #expect(ledger.entries.contains { String(decoding: $0, as: UTF8.self).contains("sev-snp") })
    }

    @Test func aReportMadeForAnotherKeyOrNonceGetsNone() async throws {
        let (outcome, _) = try await attest(misbind: true)
        guard case .failure(let error) = outcome, case KeyBrokerClientError.refused(let check, _) = error else {
            Issue.record("a report bound to another key or nonce released keys: \(outcome)")
            return
        }
        #expect(check == "report-data")
    }
}
