public import Foundation
public import Sodium

/// Verifies simulated-TEE evidence with every check a hardware report gets, each marked as
/// simulated: signature, platform key trusted, report-data binding, measurement, debug, freshness.
public struct SimulatedVerifier: EvidenceVerifier {
    public enum CheckName {
        public static let reportFormat = "report-format"
        public static let signature = "signature"
        public static let platformKeyTrusted = "platform-key-trusted"
        public static let platformKeyHost = "platform-key-host"
        public static let reportData = "report-data"
        public static let measurement = "measurement"
        public static let debug = "debug"
        public static let freshness = "freshness"
    }

    public let trustedPlatformKeys: [SigningPublicKey]
    /// How old a report may be.
    public let maximumAge: TimeInterval
    /// How far in the future a report's timestamp may be (clock skew between hosts).
    public let maximumSkew: TimeInterval

    public init(trustedPlatformKeys: [SigningPublicKey], maximumAge: TimeInterval = 300, maximumSkew: TimeInterval = 30)
    {
        self.trustedPlatformKeys = trustedPlatformKeys
        self.maximumAge = maximumAge
        self.maximumSkew = maximumSkew
    }

    public func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult {
        let tag = "[SIMULATED] "
        var checks: [VerificationResult.Check] = []
        func record(_ name: String, _ problem: String?, ok: @autoclosure () -> String) {
            checks.append(.init(name, passed: problem == nil, detail: tag + (problem ?? ok())))
        }
        // A TCB floor or any hardware constraint cannot hold for a software TEE: refuse, never ignore.
        let constraints = expectations.policy.constraintsCheck(for: .simulated)
        record(constraints.name, constraints.passed ? nil : constraints.detail, ok: constraints.detail)
        let report: SimulatedReport
        do {
            report = try SimulatedReport(bytes: evidence.report)
        } catch {
            record(CheckName.reportFormat, "\(error)", ok: "")
            return VerificationResult(kind: evidence.kind, checks: checks, claims: nil)
        }
        record(
            CheckName.reportFormat, nil,
            ok: "simulated TEE report v1: a software key signs it, no hardware vouches for it")

        record(
            CheckName.signature,
            report.hasValidSignature ? nil : "Ed25519 signature does not verify with the report's platform key",
            ok: "Ed25519 signature by platform key \(report.platformKey.fingerprint) verifies")
        record(
            CheckName.platformKeyTrusted,
            trustedPlatformKeys.contains(report.platformKey)
                ? nil
                : "platform key \(report.platformKey.fingerprint) is not among the \(trustedPlatformKeys.count) trusted",
            ok: "platform key \(report.platformKey.fingerprint) is trusted")
        if let hostKeys = expectations.platformKeys {
            // One key per host: a key trusted for another host's roles does not vouch for this one.
            record(
                CheckName.platformKeyHost,
                hostKeys.contains(report.platformKey.bytes)
                    ? nil : "platform key \(report.platformKey.fingerprint) is not the key of this role's host",
                ok: "platform key \(report.platformKey.fingerprint) is the key of this role's host")
        }
        record(
            CheckName.reportData,
            report.reportData == expectations.reportData ? nil : "report data is bound to another nonce, key or role",
            ok: "report data matches the expected binding")
        let measurement = Hex.encode(report.measurement)
        if expectations.measurements.isEmpty {
            record(CheckName.measurement, "the policy accepts no measurement", ok: "")
        } else {
            record(
                CheckName.measurement,
                expectations.measurements.contains(report.measurement)
                    ? nil
                    : "measurement \(measurement) is not among the \(expectations.measurements.count) accepted (another binary or configuration)",
                ok: "measurement \(measurement) is accepted")
        }
        record(
            CheckName.debug,
            report.debug && !expectations.policy.allowDebug ? "report says debug, and the policy forbids it" : nil,
            ok: report.debug ? "debug on, permitted by policy" : "debug off")
        let issued = Date(timeIntervalSince1970: TimeInterval(report.timestamp))
        let age = now.timeIntervalSince(issued)
        let freshnessProblem: String? =
            if age > maximumAge {
                "report is \(Int(age)) s old, older than \(Int(maximumAge)) s"
            } else if -age > maximumSkew { "report is dated \(Int(-age)) s in the future" } else { nil }
        record(CheckName.freshness, freshnessProblem, ok: "report is \(Int(age)) s old (limit \(Int(maximumAge)) s)")

        let claims = AttestationClaims(
            measurement: measurement, debug: report.debug, tcb: nil, reportData: Hex.encode(report.reportData),
            platform: "SIMULATED TEE (software platform key \(report.platformKey.fingerprint); not hardware-backed)")
        return VerificationResult(kind: evidence.kind, checks: checks, claims: claims)
    }
}
