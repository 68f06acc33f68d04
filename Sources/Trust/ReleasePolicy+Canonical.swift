public import Attestation
import Foundation
import Sodium

extension ReleasePolicy {
    static let canonicalMagic = Array("sealpipe-policy-v3\n".utf8)

    /// One byte form of the policy, logged and hashed: the ASCII line `sealpipe-policy-v3`,
    /// then JSON with sorted keys (so each role's kinds are sorted) and each kind's measurements
    /// sorted and lower-cased. JSON rather than a field list, so that every requirement the verifiers
    /// enforce — including ones added later (VMPL, SEV-SNP details) — is in the logged policy.
    public var canonicalBytes: [UInt8] {
        var normalized = self
        for (name, role) in roles {
            for (kind, constraints) in role.evidence {
                normalized.roles[name]!.evidence[kind]!.measurements = constraints.measurements.map { $0.lowercased() }
                    .sorted()
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding plain strings, numbers and booleans cannot fail.
        let json = try! encoder.encode(normalized)
        return Self.canonicalMagic + Array(json)
    }

    /// SHA-256 of `canonicalBytes`: what manifests and log entries name the policy by.
    public var digest: [UInt8] { SHA256.hash(canonicalBytes) }

    /// Decodes `canonicalBytes` (as carried in a policy-change log entry).
    public init(canonicalBytes bytes: [UInt8]) throws(CanonicalDecodingError) {
        guard bytes.starts(with: Self.canonicalMagic) else { throw .invalidValue(what: "policy magic") }
        do {
            self = try JSONDecoder().decode(ReleasePolicy.self, from: Data(bytes.dropFirst(Self.canonicalMagic.count)))
        } catch {
            throw .invalidValue(what: "policy JSON")
        }
    }
}
