/// Which Kubernetes runtime class a role's pods run under, from the evidence its policy accepts.
public enum RuntimeClass {
    /// Confidential Containers' classes for the hardware evidence kinds.
    public static let byEvidenceKind: [String: String] = [
        "sev-snp": "kata-qemu-snp",
        "tdx": "kata-qemu-tdx",
    ]

    /// The class for a role whose policy accepts `kinds`: the one hardware kind's class, `nil`
    /// for a simulated-only role (not confidential). A role that accepts two hardware kinds is
    /// ambiguous and needs `--runtime-class ROLE=CLASS`.
    public static func `default`(forEvidenceKinds kinds: [String], role: String) throws(DeployError) -> String? {
        let classes = Set(kinds.compactMap { byEvidenceKind[$0] })
        guard classes.count <= 1 else {
            throw DeployError(
                "kms.policy.roles.\(role).evidence",
                "accepts \(kinds.joined(separator: " and ")): choose its class with --runtime-class \(role)=CLASS")
        }
        return classes.first
    }
}
