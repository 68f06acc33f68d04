/// A machine in the topology, by the name stages use and the address peers reach it at.
public struct HostSpec: Sendable, Hashable {
    /// The name `host:` fields and `sealpipe launch --host` use.
    public let name: String
    /// The IP address or DNS name other hosts connect to; wildcard binds resolve to it.
    public let address: String

    public init(name: String, address: String) {
        self.name = name
        self.address = address
    }
}
