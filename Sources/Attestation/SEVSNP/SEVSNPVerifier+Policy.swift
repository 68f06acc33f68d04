import Sodium

extension SEVSNPVerifier {
    /// The checks `SEVSNPPolicy` asks for, in a fixed order, only for the fields it sets.
    static func policyChecks(
        _ report: SEVSNPReport, policy: SEVSNPPolicy, layout: SEVSNPProduct
    ) -> [VerificationResult.Check] {
        var checks: [VerificationResult.Check] = []
        func record(_ name: String, _ problem: String?, ok: @autoclosure () -> String) {
            checks.append(.init(name, passed: problem == nil, detail: problem ?? ok()))
        }
        func field(_ name: String, _ label: String, expected: String?, actual: [UInt8]) {
            guard let expected else { return }
            guard let wanted = Hex.decode(spaced: expected), wanted.count == actual.count else {
                record(name, "policy \(label) is not \(actual.count) bytes of hex", ok: "")
                return
            }
            record(
                name,
                wanted == actual ? nil : "\(label) \(Hex.encode(actual)) differs from the policy's \(expected)",
                ok: "\(label) matches")
        }
        func oneOf(_ accepted: [String], _ actual: [UInt8]) -> Bool {
            accepted.contains { Hex.decode(spaced: $0).map { $0 == actual } ?? false }
        }

        field("host-data", "HOST_DATA", expected: policy.hostData, actual: report.hostData)
        field("family-id", "FAMILY_ID", expected: policy.familyID, actual: report.familyID)
        field("image-id", "IMAGE_ID", expected: policy.imageID, actual: report.imageID)
        if let chipIDs = policy.chipIDs {
            record(
                "chip-id",
                oneOf(chipIDs, report.chipID)
                    ? nil
                    : "CHIP_ID \(Hex.encode(report.chipID.prefix(8)))… is not among the \(chipIDs.count) accepted",
                ok: "CHIP_ID is accepted")
        }
        if let maximum = policy.maximumGuestPolicy.map(SEVSNPGuestPolicy.init(rawValue:)) {
            let have = report.policy
            var problems: [String] = []
            if (have.abiMajor, have.abiMinor) < (maximum.abiMajor, maximum.abiMinor) {
                problems.append(
                    "ABI \(have.abiMajor).\(have.abiMinor) is below \(maximum.abiMajor).\(maximum.abiMinor)")
            }
            if have.smtAllowed && !maximum.smtAllowed { problems.append("SMT allowed") }
            if have.migrationAgentAllowed && !maximum.migrationAgentAllowed {
                problems.append("migration agent allowed")
            }
            if have.debugAllowed && !maximum.debugAllowed { problems.append("debug allowed") }
            if maximum.singleSocketOnly && !have.singleSocketOnly { problems.append("not restricted to one socket") }
            record(
                "guest-policy",
                problems.isEmpty ? nil : "guest policy \(have) exceeds \(maximum): " + problems.joined(separator: ", "),
                ok: "guest policy \(have) is within \(maximum)")
        }
        if let maximum = policy.maximumPlatformInfo {
            let extra = report.platformInfo & ~maximum
            record(
                "platform-info",
                extra == 0
                    ? nil
                    : "PLATFORM_INFO 0x\(String(report.platformInfo, radix: 16)) sets bits 0x\(String(extra, radix: 16)) the policy does not allow",
                ok:
                    "PLATFORM_INFO 0x\(String(report.platformInfo, radix: 16)) is within 0x\(String(maximum, radix: 16))"
            )
        }
        if let minimum = policy.minimumLaunchTCB.map(SEVSNPTCBVersion.init(rawValue:)) {
            record(
                "minimum-launch-tcb",
                report.launchTCB.meets(minimum, for: layout)
                    ? nil
                    : "launch TCB (\(report.launchTCB.describe(for: layout))) is below \(minimum.describe(for: layout))",
                ok: "launch TCB meets \(minimum.describe(for: layout))")
        }
        if let minimum = policy.minimumBuild {
            let builds = [report.currentVersion.build, report.committedVersion.build]
            let problem: String? =
                !(0...255).contains(minimum)
                ? "policy minimum build \(minimum) is not 0–255"
                : builds.allSatisfy({ Int($0) >= minimum })
                    ? nil
                    : "firmware build (current \(builds[0]), committed \(builds[1])) is below \(minimum)"
            record("firmware-build", problem, ok: "firmware builds \(builds[0]) and \(builds[1]) meet \(minimum)")
        }
        if let minimum = policy.minimumVersion {
            let parts = minimum.split(separator: ".").compactMap { UInt8($0) }
            let versions = [report.currentVersion, report.committedVersion]
            let problem: String? =
                parts.count != 2 || minimum.split(separator: ".").count != 2
                ? "policy minimum version \"\(minimum)\" is not major.minor"
                : versions.allSatisfy({ ($0.major, $0.minor) >= (parts[0], parts[1]) })
                    ? nil
                    : "firmware \(versions[0]) / committed \(versions[1]) is below \(minimum)"
            record("firmware-version", problem, ok: "firmware \(versions[0]) meets \(minimum)")
        }
        if let minimum = policy.minimumGuestSVN {
            record(
                "guest-svn", report.guestSVN >= minimum ? nil : "GUEST_SVN \(report.guestSVN) is below \(minimum)",
                ok: "GUEST_SVN \(report.guestSVN) meets \(minimum)")
        }
        if policy.requireIDBlock == true || policy.requireAuthorKey == true {
            let present = !report.idKeyDigest.allSatisfy { $0 == 0 }
            let trusted = policy.trustedIDKeyDigests.map { oneOf($0, report.idKeyDigest) } ?? true
            record(
                "id-block",
                !present
                    ? "the report has no ID block (ID_KEY_DIGEST is zero)"
                    : !trusted ? "ID_KEY_DIGEST \(Hex.encode(report.idKeyDigest.prefix(8)))… is not trusted" : nil,
                ok: "ID block signed by key \(Hex.encode(report.idKeyDigest.prefix(8)))…")
        }
        if policy.requireAuthorKey == true {
            let trusted = policy.trustedAuthorKeyDigests.map { oneOf($0, report.authorKeyDigest) } ?? true
            record(
                "author-key",
                !report.authorKeyEnabled
                    ? "the report has no author key (AUTHOR_KEY_EN is 0)"
                    : !trusted
                        ? "AUTHOR_KEY_DIGEST \(Hex.encode(report.authorKeyDigest.prefix(8)))… is not trusted" : nil,
                ok: "author key \(Hex.encode(report.authorKeyDigest.prefix(8)))…")
        }
        return checks
    }
}
