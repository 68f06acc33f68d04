public import Attestation
public import Foundation
public import Sodium

/// Client-side verification of a `PipelineManifest` against a pinned broker key.
///
/// Every check runs and is reported, so a client (or an operator) sees all that is wrong,
/// not only the first thing; the manifest is usable only if every check passed.
public enum ManifestVerifier {
    /// Stable check names, in the order they are reported.
    public enum Check: String, Sendable, CaseIterable, Codable {
        case version
        case signature
        case expiry
        /// `expiresAt` is within the front key's epoch plus grace.
        case epochBound = "epoch-bound"
        case treeHeadSignature = "tree-head-signature"
        case policyEntry = "policy-entry"
        /// The manifest's policy summary is exactly the summary of the logged policy.
        case policySummary = "policy-summary"
        /// `modelVersion` is the digest of the summary's shard digests.
        case modelVersion = "model-version"
        case inclusionProof = "inclusion-proof"
        case policyDigest = "policy-digest"
        case measurements
        /// No role accepts simulated evidence, unless the client allowed it explicitly.
        case simulatedEvidence = "simulated-evidence"
    }

    /// Verifies `manifest`.
    /// - Parameters:
    ///   - expectedMeasurements: role → measurements (hex) the client accepts; the policy must
    ///     allow nothing else for those roles. `nil` skips the check (reported as skipped).
    ///   - expectedPolicyDigest: the policy digest the client pinned, if any.
    ///   - allowSimulated: whether the client accepts a pipeline whose policy accepts simulated
    ///     evidence for some role. Off by default: a simulated TEE proves nothing against
    ///     whoever runs the host, so such a manifest fails `simulated-evidence` unless the
    ///     caller opts in.
    ///   - now: the client's clock, injected so that expiry is testable.
    public static func verify(
        _ manifest: PipelineManifest, pinnedBrokerKey: SigningPublicKey,
        expectedMeasurements: [String: Set<String>]? = nil, expectedPolicyDigest: [UInt8]? = nil,
        allowSimulated: Bool = false, now: Date
    ) -> ManifestVerificationReport {
        var results: [ManifestVerificationReport.Result] = []
        func record(_ check: Check, _ passed: Bool?, _ detail: String) {
            results.append(.init(check: check, passed: passed, detail: detail))
        }

        record(
            .version, manifest.version == PipelineManifest.currentVersion,
            "manifest version \(manifest.version), expected \(PipelineManifest.currentVersion)")

        let signatureValid = pinnedBrokerKey.isValidSignature(manifest.signature, for: manifest.signedBytes)
        record(
            .signature, signatureValid,
            signatureValid ? "signed by the pinned broker key" : "signature does not verify under the pinned broker key"
        )

        let nowMillis = UInt64(max(0, (now.timeIntervalSince1970 * 1000).rounded(.down)))
        let fresh =
            manifest.issuedAt <= manifest.expiresAt && nowMillis < manifest.expiresAt
            && manifest.issuedAt <= nowMillis + clockSkewMillis
        record(
            .expiry, fresh,
            fresh
                ? "valid until \(manifest.expiresAt) ms"
                : "not valid at \(nowMillis) ms (issued \(manifest.issuedAt), expires \(manifest.expiresAt))")

        // Checked without overflow: a bound past the end of time is no bound.
        let (keyEnd, overflow) = manifest.epochEndsAt.addingReportingOverflow(manifest.graceMilliseconds)
        let bounded = !overflow && manifest.expiresAt <= keyEnd
        record(
            .epochBound, bounded,
            bounded
                ? "expires within epoch \(manifest.frontKey.epoch)'s end plus grace (\(keyEnd) ms)"
                : "expires at \(manifest.expiresAt) ms, after epoch \(manifest.frontKey.epoch)'s end "
                    + "\(manifest.epochEndsAt) ms plus \(manifest.graceMilliseconds) ms grace")

        let headValid = manifest.treeHead.hasValidSignature(by: pinnedBrokerKey)
        record(
            .treeHeadSignature, headValid,
            headValid
                ? "tree head of size \(manifest.treeHead.treeSize) signed by the broker"
                : "tree head signature does not verify")

        var policy: ReleasePolicy?
        do {
            let entry = try LogEntry(encoded: manifest.policyEntry)
            guard case .policyChange(let change) = entry else {
                record(.policyEntry, false, "policy entry is a \(entry.typeName) entry")
                throw CanonicalDecodingError.invalidValue(what: "entry type")
            }
            let decoded = try ReleasePolicy(canonicalBytes: change.policy)
            let matches =
                ConstantTime.equals(SHA256.hash(change.policy), manifest.policyDigest)
                && change.pipelineID == manifest.pipelineID
            record(
                .policyEntry, matches,
                matches
                    ? "policy entry matches the manifest's policy digest and pipeline"
                    : "policy entry does not match the manifest's policy digest or pipeline id")
            if matches { policy = decoded }
        } catch {
            if !results.contains(where: { $0.check == .policyEntry }) {
                record(.policyEntry, false, "policy entry does not decode: \(error)")
            }
        }

        if let policy {
            let expected = RolePolicySummary.summaries(of: policy)
            let same = expected == manifest.policySummary
            record(
                .policySummary, same,
                same
                    ? "policy summary matches the logged policy (\(expected.count) roles)"
                    : "policy summary differs from the logged policy: "
                        + summaryDifferences(manifest.policySummary, expected))
        } else {
            record(.policySummary, false, "no verified policy to compare the summary with")
        }

        let modelVersion = RolePolicySummary.modelVersion(of: manifest.policySummary)
        let versionMatches = modelVersion == manifest.modelVersion
        record(
            .modelVersion, versionMatches,
            versionMatches
                ? "model version \(modelVersion) is the digest of the roles' shard digests"
                : "model version \(manifest.modelVersion) is not the digest of the roles' shard digests (\(modelVersion))"
        )

        do {
            try MerkleProof.verifyInclusion(
                leafHash: MerkleHash.leaf(manifest.policyEntry), index: manifest.policyEntryIndex,
                treeSize: manifest.treeHead.treeSize, proof: manifest.policyInclusionProof,
                root: manifest.treeHead.rootHash)
            record(
                .inclusionProof, true,
                "policy entry \(manifest.policyEntryIndex) is in the tree of size \(manifest.treeHead.treeSize)")
        } catch {
            record(.inclusionProof, false, "inclusion proof refused: \(error)")
        }

        if let expectedPolicyDigest {
            let same = ConstantTime.equals(expectedPolicyDigest, manifest.policyDigest)
            record(
                .policyDigest, same,
                same
                    ? "policy digest is the pinned one"
                    : "policy digest \(Hex.encode(manifest.policyDigest)) is not the pinned \(Hex.encode(expectedPolicyDigest))"
            )
        } else {
            record(.policyDigest, nil, "no pinned policy digest")
        }

        if let expectedMeasurements {
            if let policy {
                let summaries = RolePolicySummary.summaries(of: policy)
                var problems: [String] = []
                for role in expectedMeasurements.keys.sorted() {
                    guard let summary = summaries.first(where: { $0.role == role }) else {
                        problems.append("\(role): not in the policy")
                        continue
                    }
                    let allowed = Set(summary.evidence.flatMap(\.measurements))
                    let unexpected = allowed.subtracting(expectedMeasurements[role]!.map { $0.lowercased() })
                    if !unexpected.isEmpty {
                        problems.append("\(role): unexpected measurement \(unexpected.sorted().joined(separator: ","))")
                    }
                    if allowed.isEmpty { problems.append("\(role): policy names no measurement") }
                }
                record(
                    .measurements, problems.isEmpty,
                    problems.isEmpty ? "policy allows only expected measurements" : problems.joined(separator: "; "))
            } else {
                record(.measurements, false, "no verified policy to compare measurements against")
            }
        } else {
            record(.measurements, nil, "no expected measurements given")
        }

        // Read from the signed summary, so it holds for what the client will show and act on.
        let simulated = manifest.rolesAcceptingSimulatedEvidence
        if simulated.isEmpty {
            record(.simulatedEvidence, true, "no role accepts simulated evidence")
        } else {
            let roles = simulated.joined(separator: ", ")
            record(
                .simulatedEvidence, allowSimulated,
                allowSimulated
                    ? "SIMULATED evidence accepted for \(roles): allowed by the client"
                    : "the policy accepts SIMULATED evidence for \(roles): no hardware protects "
                        + (simulated.count == 1 ? "that role" : "those roles")
                        + " against whoever runs the host; refused unless simulated evidence is allowed explicitly")
        }
        return ManifestVerificationReport(results: results, policy: policy)
    }

    /// Names the roles whose summaries differ (or are missing on one side).
    static func summaryDifferences(_ carried: [RolePolicySummary], _ expected: [RolePolicySummary]) -> String {
        let roles: [String] = Set(carried.map(\.role)).union(expected.map(\.role)).sorted()
        let differing: [String] = roles.filter { (role: String) -> Bool in
            let mine: [RolePolicySummary] = carried.filter { $0.role == role }
            let theirs: [RolePolicySummary] = expected.filter { $0.role == role }
            return mine != theirs
        }
        return differing.isEmpty ? "the roles are out of order" : "roles " + differing.joined(separator: ", ")
    }

    /// Tolerated clock difference for `issuedAt` in the future.
    public static let clockSkewMillis: UInt64 = 60_000
}

/// The outcome of every manifest check.
public struct ManifestVerificationReport: Sendable {
    public struct Result: Sendable, Hashable {
        public var check: ManifestVerifier.Check
        /// `nil` when the check was skipped because the caller gave nothing to compare with.
        public var passed: Bool?
        public var detail: String
    }

    public var results: [Result]
    /// The verified policy, when the policy entry checked out.
    public var policy: ReleasePolicy?

    /// True only if no check failed (skipped checks do not fail).
    public var isValid: Bool { !results.contains { $0.passed == false } }

    /// The checks that failed, in order.
    public var failedChecks: [ManifestVerifier.Check] { results.filter { $0.passed == false }.map(\.check) }
}
