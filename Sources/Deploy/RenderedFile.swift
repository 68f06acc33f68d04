/// One file a renderer produces, by name inside the output directory.
public struct RenderedFile: Sendable, Hashable {
    public let name: String
    public let contents: String

    public init(name: String, contents: String) {
        self.name = name
        self.contents = contents
    }
}

/// What a renderer returns: the files to write, the objects in them (for tests and for the
/// command's summary), the topology text delivered to every pod, and warnings the command
/// must print (a simulated TEE is not confidential).
public struct Rendering: Sendable {
    public var files: [RenderedFile]
    public var objects: [ManifestValue]
    /// The topology file every pod runs, as delivered; its SHA-256 is what evidence binds.
    public var topology: DeploymentTopology
    public var warnings: [String]
    /// For each confidential role, the SHA-256 of its CoCo initdata: the HOST_DATA (SEV-SNP) or
    /// MRCONFIGID (TDX, zero-padded) its evidence will carry.
    public var initDataDigests: [String: String]

    /// The objects of one kind (`NetworkPolicy`, `StatefulSet`, …), in rendering order.
    public func objects(ofKind kind: String) -> [ManifestValue] {
        objects.filter { $0["kind"]?.stringValue == kind }
    }

    /// The object of `kind` named `name`, or `nil`.
    public func object(kind: String, name: String) -> ManifestValue? {
        objects(ofKind: kind).first { $0.at("metadata.name")?.stringValue == name }
    }
}
