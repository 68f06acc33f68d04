/// A machine in the topology, by the name stages use and the address peers reach it at.
public struct HostSpec: Sendable, Hashable {
    /// The name `host:` fields and `sealpipe launch --host` use.
    public let name: String
    /// The IP address or DNS name other hosts connect to; wildcard binds resolve to it.
    public let address: String
    /// This host's own simulated-TEE platform public key, as copied to the broker's host: the
    /// broker trusts it for the roles placed on this host only. Required (with several hosts)
    /// where a role on the host accepts simulated evidence; the secret half never leaves the host.
    public let platformKeyPath: String?

    public init(name: String, address: String, platformKeyPath: String? = nil) {
        self.name = name
        self.address = address
        self.platformKeyPath = platformKeyPath
    }
}
