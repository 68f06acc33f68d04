import Foundation
import Sodium
import Testing

@testable import Attestation

/// A verifier whose verdict the test chooses, to observe the composite's dispatch.
private struct FixedVerifier: EvidenceVerifier {
    let passes: Bool
    func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult {
        VerificationResult(
            kind: evidence.kind, checks: [.init("fixed", passed: passes, detail: "fixed verdict")], claims: nil)
    }
}

@Suite(.timeLimit(.minutes(1))) struct CompositeVerifierTests {
    let expectations = Expectations(
        reportData: [UInt8](repeating: 1, count: 64),
        policy: EvidencePolicy(measurements: []),
        measurements: [])

    let simulatedOnly = RolePolicy(evidence: ["simulated": EvidencePolicy(measurements: [])])

    @Test func refusesKindThePolicyDoesNotAllow() {
        let composite = CompositeVerifier(verifiers: [.sevSNP: FixedVerifier(passes: true)])
        let result = composite.verify(
            Evidence(kind: .sevSNP, report: []), role: simulatedOnly, reportData: expectations.reportData, now: Date())
        #expect(!result.passed)
        #expect(result.failedCheck?.name == "evidence-kind")
        #expect(result.checks.count == 1)
    }

    @Test func refusesAllowedKindWithNoVerifier() {
        let composite = CompositeVerifier(verifiers: [:])
        let result = composite.verify(Evidence(kind: .simulated, report: []), expectations: expectations, now: Date())
        #expect(result.failedCheck?.name == "evidence-kind")
    }

    @Test func dispatchesAllowedKindAndKeepsItsVerdict() {
        let passing = CompositeVerifier(verifiers: [.simulated: FixedVerifier(passes: true)])
        let ok = passing.verify(
            Evidence(kind: .simulated, report: []), role: simulatedOnly, reportData: expectations.reportData,
            now: Date())
        #expect(ok.passed)
        #expect(ok.checks.map(\.name) == ["evidence-kind", "fixed"])

        let failing = CompositeVerifier(verifiers: [.simulated: FixedVerifier(passes: false)])
        let refused = failing.verify(Evidence(kind: .simulated, report: []), expectations: expectations, now: Date())
        #expect(refused.failedCheck?.name == "fixed")
    }

    @Test func emptyCheckListNeverPasses() {
        #expect(!VerificationResult(kind: .simulated, checks: [], claims: nil).passed)
    }

    @Test func evidenceRoundTripsThroughJSONIncludingUnknownKinds() throws {
        let evidence = Evidence(kind: EvidenceKind(rawValue: "tdx"), report: [0, 1, 2], certificates: [[9, 8]])
        let json = try JSONEncoder().encode(evidence)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains("\"AAEC\""))
        #expect(try JSONDecoder().decode(Evidence.self, from: json) == evidence)
        let bad = Data(#"{"kind":"sev-snp","report":"%%%"}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Evidence.self, from: bad) }
    }

    @Test func reportDataIsSHA512OfNonceKeyAndRole() {
        // SHA-512("abc") known answer: nonce "a", key "b", role "c" concatenate to "abc".
        let binding = ReportData.binding(nonce: [0x61], ephemeralPublicKey: [0x62], role: "c")
        #expect(binding.count == 64)
        #expect(Hex.encode(binding).hasPrefix("ddaf35a193617abacc417349ae204131"))
        #expect(binding != ReportData.binding(nonce: [0x61], ephemeralPublicKey: [0x62], role: "d"))
    }

    @Test func resolvesReferenceBuildAndRefusesBadEntries() throws {
        let policy = EvidencePolicy(measurements: ["reference-build", "AbCd"])
        #expect(try policy.resolvedMeasurements(referenceBuild: [1, 2]) == [[1, 2], [0xab, 0xcd]])
        #expect(throws: AttestationError.referenceBuildUnavailable) {
            try policy.resolvedMeasurements(referenceBuild: nil)
        }
        let bad = EvidencePolicy(measurements: ["xyz"])
        #expect(throws: AttestationError.invalidMeasurement("xyz")) {
            try bad.resolvedMeasurements(referenceBuild: nil)
        }
    }
}
