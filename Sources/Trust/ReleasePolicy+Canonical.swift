public import Attestation
import Sodium

extension ReleasePolicy {
    /// One byte form of the policy (roles, kinds and measurements sorted), logged and hashed.
    public var canonicalBytes: [UInt8] {
        var writer = CanonicalWriter()
        writer.fixed(Array("sealpipe-policy-v1".utf8))
        writer.u32(UInt32(roles.count))
        for name in roles.keys.sorted() {
            let role = roles[name]!
            writer.string(name)
            writer.strings(role.allowedKinds.sorted())
            writer.strings(role.measurements.map { $0.lowercased() }.sorted())
            writer.bool(role.allowDebug)
            writer.bool(role.minimumTCB != nil)
            writer.u64(role.minimumTCB ?? 0)
        }
        return writer.bytes
    }

    /// SHA-256 of `canonicalBytes`: what manifests and log entries name the policy by.
    public var digest: [UInt8] { SHA256.hash(canonicalBytes) }
}

extension ReleasePolicy {
    /// Decodes `canonicalBytes` (as carried in a policy-change log entry).
    public init(canonicalBytes bytes: [UInt8]) throws(CanonicalDecodingError) {
        var r = CanonicalReader(bytes)
        guard try r.fixed(18, "policy magic") == Array("sealpipe-policy-v1".utf8) else {
            throw .invalidValue(what: "policy magic")
        }
        let count = try r.u32("roles")
        var roles: [String: RolePolicy] = [:]
        for _ in 0..<count {
            guard r.remaining > 0 else { throw .truncated(what: "roles") }
            let name = try r.string("role")
            let kinds = try r.strings("allowedKinds")
            let measurements = try r.strings("measurements")
            let allowDebug = try r.bool("allowDebug")
            let hasTCB = try r.bool("hasMinimumTCB")
            let tcb = try r.u64("minimumTCB")
            roles[name] = RolePolicy(
                allowedKinds: kinds, measurements: measurements, allowDebug: allowDebug, minimumTCB: hasTCB ? tcb : nil)
        }
        try r.finish()
        self.init(roles: roles)
    }
}
