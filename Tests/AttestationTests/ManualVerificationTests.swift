import Foundation
import Sodium
import Testing

@testable import Attestation

@Suite(.timeLimit(.minutes(1))) struct ManualVerificationTests {
    let platform = PlatformKey.generate()
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func evidence(debug: Bool = false) throws -> Evidence {
        try SimulatedEvidenceProvider(
            platformKey: platform, measurement: [UInt8](repeating: 1, count: 48), debug: debug, clock: { [now] in now },
            warn: { _ in }
        ).collect(reportData: [UInt8](repeating: 2, count: 64))
    }

    var verifier: SimulatedVerifier { SimulatedVerifier(trustedPlatformKeys: [platform.publicKey]) }
    let policy = EvidencePolicy(measurements: [])

    @Test func unspecifiedExpectationsAreShownNotChecked() throws {
        let result = ManualVerification.verify(
            try evidence(), with: verifier, measurements: nil, reportData: nil, policy: policy, now: now)
        #expect(result.passed)
        let measurement = try #require(result.check(named: "measurement"))
        #expect(
            measurement.detail.contains("not checked")
                && measurement.detail.contains(String(repeating: "01", count: 48)))
        #expect(result.check(named: "report-data")?.detail.contains("not checked") == true)
    }

    @Test func givenExpectationsAreChecked() throws {
        let wrong = ManualVerification.verify(
            try evidence(), with: verifier, measurements: [[UInt8](repeating: 9, count: 48)],
            reportData: [UInt8](repeating: 2, count: 64), policy: policy, now: now)
        #expect(wrong.failedCheck?.name == "measurement")
        let badData = ManualVerification.verify(
            try evidence(), with: verifier, measurements: nil, reportData: [UInt8](repeating: 3, count: 64),
            policy: policy, now: now)
        #expect(badData.failedCheck?.name == "report-data")
        // Other checks are never waived.
        let debug = ManualVerification.verify(
            try evidence(debug: true), with: verifier, measurements: nil, reportData: nil, policy: policy, now: now)
        #expect(debug.failedCheck?.name == "debug")
    }

    @Test func unparseableReportStaysRefused() {
        let result = ManualVerification.verify(
            Evidence(kind: .simulated, report: [1, 2, 3]), with: verifier, measurements: nil, reportData: nil,
            policy: policy, now: now)
        #expect(result.failedCheck?.name == "report-format")
    }

    @Test func reportFilesMayBeBinaryOrHex() {
        #expect(ManualVerification.reportBytes(fromFile: Array("0a0B ff\n".utf8)) == [0x0a, 0x0b, 0xff])
        let binary: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0xff]
        #expect(ManualVerification.reportBytes(fromFile: binary) == binary)
    }

    @Test func renderingNamesEveryCheckAndTheVerdict() throws {
        let result = ManualVerification.verify(
            try evidence(debug: true), with: verifier, measurements: nil, reportData: nil, policy: policy, now: now)
        let text = result.renderedText()
        #expect(text.contains("✓ signature: [SIMULATED]"))
        #expect(text.contains("✗ debug: [SIMULATED]"))
        #expect(text.hasSuffix("FAIL: check \"debug\" failed"))
        let json = try JSONSerialization.jsonObject(with: Data(result.renderedJSON().utf8)) as? [String: Any]
        #expect(json?["passed"] as? Bool == false)
        #expect(json?["failedCheck"] as? String == "debug")
        #expect((json?["checks"] as? [Any])?.count == 8)
    }
}
