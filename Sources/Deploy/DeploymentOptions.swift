/// What an operator chooses beside the topology when rendering a deployment.
public struct DeploymentOptions: Sendable, Hashable {
    public var image: ImageReference
    /// Kubernetes only: the namespace every object goes into.
    public var namespace: String
    /// Role (a stage, `gateway` or `kms`) → runtime class, overriding the evidence kind's
    /// default (for example `kata-qemu-nvidia-gpu-snp` for a GPU shard).
    public var runtimeClasses: [String: String]

    public init(
        image: ImageReference, namespace: String = "sealpipe", runtimeClasses: [String: String] = [:]
    ) {
        self.image = image
        self.namespace = namespace
        self.runtimeClasses = runtimeClasses
    }

    /// A DNS-1123 label: what namespaces, Services and pod names must be.
    static func isLabel(_ text: String) -> Bool {
        guard let first = text.first, let last = text.last, text.count <= 63 else { return false }
        let allowed = text.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        return allowed && first != "-" && last != "-"
    }
}
