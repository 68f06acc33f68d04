import Foundation
import Sodium
import TestVectors
import Testing

@testable import Attestation

/// go-sev-guest tools/check/check_test.go: good values for attestation.bin pass, each bad value
/// is refused on its own named check.
@Suite(.timeLimit(.minutes(1)))
struct SEVSNPPolicyTests {
    static let chipID =
        "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d"
    static let zero32 = String(repeating: "00", count: 32)
    static let zero16 = String(repeating: "00", count: 16)

    func verify(_ snp: SEVSNPPolicy) throws -> VerificationResult {
        let c = snpCases[0]
        var e = matchingExpectations(for: try SEVSNPReport(bytes: c.reportBytes()))
        e.policy.sevSNP = snp
        return try verifySNP(
            report: c.reportBytes(), vek: c.vekBytes(), chain: c.chainBytes(), at: c.at, expectations: e)
    }

    static let good = SEVSNPPolicy(
        hostData: zero32, familyID: zero16, imageID: zero16, chipIDs: [chipID], maximumGuestPolicy: 0xB0000,
        maximumPlatformInfo: 0x1, minimumLaunchTCB: 4_901_323_769_462_652_930, minimumBuild: 3, minimumVersion: "1.49",
        minimumGuestSVN: 0)

    @Test func goodValuesPass() throws {
        let result = try verify(Self.good)
        #expect(result.passed, "\(String(describing: result.failedCheck))")
        #expect(
            result.checks.map(\.name).suffix(10) == [
                "host-data", "family-id", "image-id", "chip-id", "guest-policy", "platform-info", "minimum-launch-tcb",
                "firmware-build", "firmware-version", "guest-svn",
            ])
    }

    static let badValues: [(String, @Sendable (inout SEVSNPPolicy) -> Void)] = [
        ("host-data", { $0.hostData = String(repeating: "00", count: 31) + "01" }),
        ("family-id", { $0.familyID = String(repeating: "00", count: 15) + "01" }),
        ("image-id", { $0.imageID = String(repeating: "00", count: 15) + "01" }),
        ("chip-id", { $0.chipIDs = [chipID + "00"] }),
        ("chip-id", { $0.chipIDs = [String(chipID.dropLast(2)) + "5e"] }),
        ("minimum-launch-tcb", { $0.minimumLaunchTCB = 4_901_323_769_462_652_931 }),
        ("guest-policy", { $0.maximumGuestPolicy = 0 }),
        ("firmware-build", { $0.minimumBuild = 257 }),
        ("firmware-build", { $0.minimumBuild = 90 }),
        ("firmware-version", { $0.minimumVersion = "1.50" }),
        ("firmware-version", { $0.minimumVersion = "1" }),
        ("id-block", { $0.requireIDBlock = true }),
        ("id-block", { $0.requireAuthorKey = true }),
        ("platform-info", { $0.maximumPlatformInfo = 0 }),
        ("guest-svn", { $0.minimumGuestSVN = 1 }),
        ("host-data", { $0.hostData = "not hex" }),
    ]

    @Test(arguments: 0..<badValues.count)
    func badValueIsRefusedOnItsCheck(_ index: Int) throws {
        let (name, change) = Self.badValues[index]
        var policy = Self.good
        change(&policy)
        let result = try verify(policy)
        #expect(result.failedCheck?.name == name)
    }

    @Test func idBlockAndAuthorKeyFromTheTrusteeReport() throws {
        // trustee's test-report carries an ID block (family 01…, image 02…, id key digest 0356…) but no author key.
        let c = snpCases[2]
        let report = try SEVSNPReport(bytes: c.reportBytes())
        var e = matchingExpectations(for: report)
        let idKey = Hex.encode(report.idKeyDigest)
        func name(_ snp: SEVSNPPolicy) throws -> String? {
            e.policy.sevSNP = snp
            return try verifySNP(
                report: c.reportBytes(), vek: c.vekBytes(), chain: c.chainBytes(), at: c.at, expectations: e
            )
            .failedCheck?.name
        }
        #expect(
            try name(SEVSNPPolicy(familyID: "01" + String(repeating: "00", count: 15), requireIDBlock: true)) == nil)
        #expect(try name(SEVSNPPolicy(requireIDBlock: true, trustedIDKeyDigests: [idKey])) == nil)
        #expect(
            try name(SEVSNPPolicy(requireIDBlock: true, trustedIDKeyDigests: [String(repeating: "11", count: 48)]))
                == "id-block")
        #expect(try name(SEVSNPPolicy(requireAuthorKey: true)) == "author-key")
    }

    @Test func policyRoundTripsThroughJSON() throws {
        let policy = RolePolicy(evidence: ["sev-snp": EvidencePolicy(measurements: ["ab"], vmpl: 0, sevSNP: Self.good)])
        let decoded = try JSONDecoder().decode(RolePolicy.self, from: try JSONEncoder().encode(policy))
        #expect(decoded == policy)
        // Kind constraints without the optional fields decode with them absent.
        let plain = #"{"evidence":{"simulated":{"measurements":["reference-build"],"allowDebug":false}}}"#
        let decodedPlain = try JSONDecoder().decode(RolePolicy.self, from: Data(plain.utf8))
        let simulated = try #require(decodedPlain.evidence["simulated"])
        #expect(simulated.sevSNP == nil && simulated.vmpl == nil && simulated.minimumTCB == nil && simulated.tdx == nil)
        // The old flat form, where constraints were shared by every kind, no longer decodes.
        let old = #"{"allowedKinds":["simulated"],"measurements":["reference-build"],"allowDebug":false}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RolePolicy.self, from: Data(old.utf8)) }
    }
}
