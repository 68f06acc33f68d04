public import Attestation

extension RolePolicy {
    /// Each accepted evidence kind with the debug setting and measurements that apply to it:
    /// the one place the manifest's policy summary reads a role's policy from. Kinds sorted.
    public var acceptedEvidence: [(kind: String, allowDebug: Bool, measurements: [String])] {
        evidence.keys.sorted().map { kind in
            let policy = evidence[kind]!
            return (kind: kind, allowDebug: policy.allowDebug, measurements: policy.measurements)
        }
    }
}
