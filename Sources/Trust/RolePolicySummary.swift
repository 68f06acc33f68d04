public import Attestation
import Sodium

/// What the policy in force demands of one role, as a client reads it in the manifest: each
/// evidence kind the broker accepts for the role, whether a debuggable guest is acceptable
/// with it, and the measurements it allows.
///
/// The manifest carries it in the clear and under the broker's signature, so a client (in any
/// language) sees which evidence protects each role without decoding the logged policy; a full
/// verifier also checks that it is exactly the summary of that policy (`policy-summary`).
public struct RolePolicySummary: Sendable, Hashable, Codable, CustomStringConvertible {
    /// One accepted evidence kind and what it must show.
    public struct Evidence: Sendable, Hashable, Codable {
        /// The evidence kind (`simulated`, `sev-snp`, …).
        public var kind: String
        /// Whether evidence of this kind from a debuggable guest is acceptable.
        public var allowDebug: Bool
        /// Accepted measurements, lower-case hex, sorted.
        public var measurements: [String]

        public init(kind: String, allowDebug: Bool, measurements: [String]) {
            self.kind = kind
            self.allowDebug = allowDebug
            self.measurements = measurements
        }
    }

    public var role: String
    /// Accepted evidence, sorted by kind.
    public var evidence: [Evidence]
    /// Lower-case hex SHA-256 of the role's model shard, or "" for a role without one.
    public var shardDigest: String

    public init(role: String, evidence: [Evidence], shardDigest: String = "") {
        self.role = role
        self.evidence = evidence
        self.shardDigest = shardDigest
    }

    /// The summary of every role of `policy`, sorted by role name: the only form a manifest
    /// may carry (kinds sorted, measurements lower-cased and sorted).
    public static func summaries(of policy: ReleasePolicy) -> [RolePolicySummary] {
        policy.roles.keys.sorted().map { role in
            var byKind: [String: Evidence] = [:]
            for entry in policy.roles[role]!.acceptedEvidence where byKind[entry.kind] == nil {
                byKind[entry.kind] = Evidence(
                    kind: entry.kind, allowDebug: entry.allowDebug,
                    measurements: Set(entry.measurements.map { $0.lowercased() }).sorted())
            }
            return RolePolicySummary(
                role: role, evidence: byKind.keys.sorted().map { byKind[$0]! },
                shardDigest: policy.roles[role]!.shardDigest?.lowercased() ?? "")
        }
    }

    /// The model version of a pipeline whose policy summary is `summaries`: lower-case hex
    /// SHA-256 of `"sealpipe-model-version-v1"` · for each role with a shard digest, in the
    /// summaries' (role) order, `string(role)` · the 32-byte digest. Any changed shard is another
    /// version; a pipeline without shards has the digest of the domain alone.
    public static func modelVersion(of summaries: [RolePolicySummary]) -> String {
        var writer = CanonicalWriter()
        writer.fixed(Array("sealpipe-model-version-v1".utf8))
        for summary in summaries {
            guard let digest = Hex.decode(summary.shardDigest), !digest.isEmpty else { continue }
            writer.string(summary.role)
            writer.fixed(digest)
        }
        return Hex.encode(SHA256.hash(writer.bytes))
    }

    /// Whether the role accepts simulated evidence, which no hardware stands behind.
    public var acceptsSimulatedEvidence: Bool { evidence.contains { $0.kind == EvidenceKind.simulated.rawValue } }

    /// One line per role for people: `shard-0: simulated (debug refused, 1 measurement)`.
    public var description: String {
        let kinds = evidence.map { entry in
            let debug = entry.allowDebug ? "debug ALLOWED" : "debug refused"
            let count = entry.measurements.count
            return "\(entry.kind) (\(debug), \(count) measurement\(count == 1 ? "" : "s"))"
        }
        return "\(role): " + (kinds.isEmpty ? "no evidence accepted" : kinds.joined(separator: "; "))
    }

    /// Canonical bytes, as the manifest signature covers them: `string(role) ·
    /// string(shardDigest) · u32 n · n × (string(kind) · u8 allowDebug · u32 m · m ×
    /// string(measurement))`.
    func write(to writer: inout CanonicalWriter) {
        writer.string(role)
        writer.string(shardDigest)
        writer.u32(UInt32(evidence.count))
        for entry in evidence {
            writer.string(entry.kind)
            writer.bool(entry.allowDebug)
            writer.u32(UInt32(entry.measurements.count))
            for measurement in entry.measurements { writer.string(measurement) }
        }
    }
}
