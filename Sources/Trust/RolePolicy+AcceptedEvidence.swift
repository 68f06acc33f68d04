public import Attestation

extension RolePolicy {
    /// Each accepted evidence kind with the debug setting and measurements that apply to it:
    /// the one place the manifest's policy summary reads a role's policy from.
    ///
    /// The policy model gives every kind the role's single debug setting and measurement list;
    /// where it gains per-kind constraints, only this accessor changes.
    public var acceptedEvidence: [(kind: String, allowDebug: Bool, measurements: [String])] {
        allowedKinds.map { (kind: $0, allowDebug: allowDebug, measurements: measurements) }
    }
}
