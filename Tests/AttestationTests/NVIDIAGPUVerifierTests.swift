import Foundation
import Sodium
import TestVectors
import Testing

@testable import Attestation

/// The NVIDIA vectors of Tests/Fixtures/vectors/nvidia, composite evidence, and mutation fuzzing.
@Suite(.timeLimit(.minutes(5))) struct NVIDIAGPUVerifierTests {
    static let now = TestVectors.date("2025-01-01T00:00:00Z")

    static func report(_ path: String) throws -> [UInt8] {
        try #require(Hex.decode(spaced: try TestVectors.text("nvidia/" + path)))
    }

    static func chain(_ path: String) throws -> [[UInt8]] {
        try CertificateFile.derCertificates(from: try TestVectors.bytes("nvidia/" + path))
    }

    static func verify(_ report: [UInt8], chain: [[UInt8]], nonce: String) -> VerificationResult {
        let e = Expectations(
            reportData: [], policy: EvidencePolicy(measurements: []), measurements: [],
            gpuNonce: Hex.decode(spaced: nonce))
        return NVIDIAGPUVerifier().verify(
            Evidence(kind: .nvidiaGPU, report: report, certificates: chain), expectations: e, now: now)
    }

    static let nvtrustNonce = "931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb"
    static let trusteeNonce = "87d8e24ab336adafe228d49e83d745f6dba4ae505372b6a5704820856b343fec"

    @Test("both Hopper reports verify with their chains and nonces")
    func vectorsPass() throws {
        let a = Self.verify(
            try Self.report("nvtrust/hopperAttestationReport.txt"),
            chain: try Self.chain("nvtrust/hopperCertChain.txt"), nonce: Self.nvtrustNonce)
        #expect(a.passed, "\(a.renderedText())")
        #expect(a.claims?.platform.contains("550.90.07") == true)
        let b = Self.verify(
            try Self.report("trustee/hopper_coco_report1.txt"), chain: try Self.chain("trustee/hopper_coco_certs1.txt"),
            nonce: Self.trusteeNonce)
        #expect(b.passed, "\(b.renderedText())")
    }

    @Test("incomplete chains fail: root only, ICA missing, leaf missing")
    func badChains() throws {
        let report = try Self.report("nvtrust/hopperAttestationReport.txt")
        for file in [
            "trustee/hopper_cert_chain_case2.txt", "trustee/hopper_cert_chain_case3.txt",
            "trustee/hopper_cert_chain_case4.txt",
        ] {
            let result = Self.verify(report, chain: try Self.chain(file), nonce: Self.nvtrustNonce)
            #expect(!result.passed, "\(file)")
        }
        // Another GPU's (valid) chain in place of this one's: the signature is refused.
        let swapped = Self.verify(
            report, chain: try Self.chain("trustee/hopper_coco_certs1.txt"), nonce: Self.nvtrustNonce)
        #expect(swapped.check(named: "gpu-signature")?.passed == false)
    }

    @Test("a wrong nonce, a flipped byte in each signed part, and truncation are refused by name")
    func mutations() throws {
        let report = try Self.report("nvtrust/hopperAttestationReport.txt")
        let chain = try Self.chain("nvtrust/hopperCertChain.txt")
        #expect(Self.verify(report, chain: chain, nonce: Self.trusteeNonce).failedCheck?.name == "gpu-nonce")
        for offset in [10, 40, 200, 3000, report.count - 200, report.count - 50] {
            var bytes = report
            bytes[offset] ^= 0x01
            let result = Self.verify(bytes, chain: chain, nonce: Self.nvtrustNonce)
            #expect(!result.passed, "offset \(offset)")
        }
        for length in [0, 36, 100, report.count - 96, report.count - 1] {
            let result = Self.verify(Array(report.prefix(length)), chain: chain, nonce: Self.nvtrustNonce)
            #expect(result.failedCheck?.name == "gpu-report-format", "length \(length)")
        }
        #expect(
            Self.verify(report + [1], chain: chain, nonce: Self.nvtrustNonce).failedCheck?.name == "gpu-report-format")
    }

    @Test("reference measurements: matching values pass, another value is refused")
    func referenceValues() throws {
        let bytes = try Self.report("nvtrust/hopperAttestationReport.txt")
        let parsed = try SPDMMeasurements(bytes: bytes)
        let block = try #require(parsed.blocks.first { $0.value.contains { $0 != 0 } })
        var e = Expectations(
            reportData: [],
            policy: EvidencePolicy(
                measurements: [],
                nvidiaGPU: NVIDIAGPUPolicy(
                    referenceMeasurements: ["\(block.index)": [Hex.encode(block.value)]])),
            measurements: [], gpuNonce: Hex.decode(spaced: Self.nvtrustNonce))
        let evidence = Evidence(
            kind: .nvidiaGPU, report: bytes, certificates: try Self.chain("nvtrust/hopperCertChain.txt"))
        #expect(NVIDIAGPUVerifier().verify(evidence, expectations: e, now: Self.now).passed)
        e.policy.nvidiaGPU = NVIDIAGPUPolicy(referenceMeasurements: [
            "\(block.index)": [String(repeating: "00", count: 48)]
        ])
        #expect(
            NVIDIAGPUVerifier().verify(evidence, expectations: e, now: Self.now).failedCheck?.name == "gpu-measurements"
        )
        e.policy.nvidiaGPU = NVIDIAGPUPolicy(driverVersions: ["550.90.07"], vbiosVersions: ["96.00.9f.00.01"])
        #expect(NVIDIAGPUVerifier().verify(evidence, expectations: e, now: Self.now).passed)
        e.policy.nvidiaGPU = NVIDIAGPUPolicy(driverVersions: ["999.0"])
        #expect(
            NVIDIAGPUVerifier().verify(evidence, expectations: e, now: Self.now).failedCheck?.name == "gpu-versions")
    }

    @Test("composite tdx+nvidia-gpu: accepted only when both halves verify")
    func composite() throws {
        let quote = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        let parsed = try TDXQuote(bytes: quote)
        let gpu = Evidence(
            kind: .nvidiaGPU, report: try Self.report("nvtrust/hopperAttestationReport.txt"),
            certificates: try Self.chain("nvtrust/hopperCertChain.txt"))
        let evidence = Evidence(composite: .tdxWithNVIDIAGPU, cpu: Evidence(kind: .tdx, report: quote), device: gpu)
        let role = RolePolicy(evidence: [
            "tdx+nvidia-gpu": EvidencePolicy(
                measurements: [Hex.encode(parsed.body.mrTD)], tdx: TDXPolicy(allowMissingCollateral: true))
        ])
        let verifier = CompositeVerifier(verifiers: [.tdx: TDXVerifier(), .nvidiaGPU: NVIDIAGPUVerifier()])
        let at = TestVectors.date("2023-07-01T01:00:00Z")
        let ok = verifier.verify(
            evidence, role: role, reportData: parsed.body.reportData, gpuNonce: Hex.decode(spaced: Self.nvtrustNonce),
            now: at)
        #expect(ok.passed, "\(ok.renderedText())")
        // Without a supplied nonce the GPU must carry the binding to the CPU report data, which this vector does not.
        let unbound = verifier.verify(evidence, role: role, reportData: parsed.body.reportData, now: at)
        #expect(unbound.checks.filter { !$0.passed }.map(\.name) == ["gpu-nonce"])
        var badGPU = gpu
        badGPU.report[500] ^= 1
        let gpuFails = verifier.verify(
            Evidence(composite: .tdxWithNVIDIAGPU, cpu: Evidence(kind: .tdx, report: quote), device: badGPU),
            role: role, reportData: parsed.body.reportData, gpuNonce: Hex.decode(spaced: Self.nvtrustNonce), now: at)
        #expect(!gpuFails.passed)
        var badCPU = quote
        badCPU[0x3C] ^= 1
        let cpuFails = verifier.verify(
            Evidence(composite: .tdxWithNVIDIAGPU, cpu: Evidence(kind: .tdx, report: badCPU), device: gpu), role: role,
            reportData: parsed.body.reportData, gpuNonce: Hex.decode(spaced: Self.nvtrustNonce), now: at)
        #expect(cpuFails.check(named: "quote-signature")?.passed == false)
        // A GPU report alone never attests a role.
        let gpuOnly = verifier.verify(
            gpu, role: RolePolicy(evidence: ["nvidia-gpu": EvidencePolicy(measurements: [])]), reportData: [], now: at)
        #expect(gpuOnly.failedCheck?.name == "evidence-kind")
    }

    @Test("constraints a kind cannot carry are refused by the verifier, not ignored")
    func unsupportedConstraints() throws {
        let quote = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        var e = try TDXVerifierTests.matching(quote)
        e.policy.minimumTCB = 1
        let result = TDXVerifier().verify(
            Evidence(kind: .tdx, report: quote), expectations: e, now: TestVectors.date("2023-07-01T01:00:00Z"))
        #expect(result.failedCheck?.name == "policy-constraints")
    }

    @Test("10,000 mutated quotes and 10,000 mutated GPU reports each end in a verdict")
    func fuzz() throws {
        var generator = SystemRandomNumberGenerator()
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        let collateral = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        let tdx = TDXVerifier(collateral: [collateral])
        let e = try TDXVerifierTests.matching(quote)
        let trailing = try TDXQuote(bytes: quote).trailingByteCount
        let gpuReport = try Self.report("nvtrust/hopperAttestationReport.txt")
        let gpuChain = try Self.chain("nvtrust/hopperCertChain.txt")
        let gpu = NVIDIAGPUVerifier()
        let ge = Expectations(
            reportData: [], policy: EvidencePolicy(measurements: []), measurements: [],
            gpuNonce: Hex.decode(spaced: Self.nvtrustNonce))
        func mutate(_ input: [UInt8]) -> [UInt8] {
            var bytes = input
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(
                        in: 0...255, using: &generator)
                }
            case 1: bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
            case 2:
                bytes += (0..<Int.random(in: 1...64, using: &generator)).map { _ in
                    UInt8.random(in: 0...255, using: &generator)
                }
            default:
                // Length fields are where parsers break: hit the first kilobyte's small integers.
                let offset = Int.random(in: 0..<min(bytes.count, 1200), using: &generator)
                bytes[offset] = [0, 1, 0x7f, 0x80, 0xff].randomElement(using: &generator)!
            }
            return bytes
        }
        // Every input ends in a verdict; a changed input passes only where the format allows it
        // (unsigned bytes after a quote's signature data, NUL padding after a GPU signature), or
        // where it changes nothing the verifier reads: the PEM chain's text around the certificates
        // (a line break turned NUL after the last one, say) yields the same DER certificates.
        let original = try TDXQuote(bytes: quote)
        func readsTheSame(_ mutated: [UInt8]) -> Bool {
            guard let parsed = try? TDXQuote(bytes: mutated) else { return false }
            return parsed.signedBytes == original.signedBytes && parsed.quoteSignature == original.quoteSignature
                && parsed.attestationKey == original.attestationKey && parsed.qeReport == original.qeReport
                && parsed.qeReportSignature == original.qeReportSignature && parsed.qeAuthData == original.qeAuthData
                && parsed.pckChain == original.pckChain
        }
        for _ in 0..<10_000 {
            let mutated = mutate(quote)
            let result = tdx.verify(
                Evidence(kind: .tdx, report: mutated), expectations: e, now: TDXVerifierTests.dcapTime)
            #expect(!result.checks.isEmpty)
            #expect(
                !result.passed || mutated.starts(with: quote.prefix(quote.count - trailing)) || readsTheSame(mutated),
                "a mutated quote passed: \(mutated.count) bytes")
        }
        for _ in 0..<10_000 {
            let mutated = mutate(gpuReport)
            let result = gpu.verify(
                Evidence(kind: .nvidiaGPU, report: mutated, certificates: gpuChain), expectations: ge, now: Self.now)
            #expect(!result.checks.isEmpty)
            #expect(
                !result.passed
                    || (mutated.starts(with: gpuReport) && mutated.dropFirst(gpuReport.count).allSatisfy { $0 == 0 }))
        }
    }
}
