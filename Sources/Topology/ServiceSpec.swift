/// One process `sealpipe launch` starts: the key broker, the gateway or one replica of a stage.
public struct ServiceSpec: Sendable, Hashable, CustomStringConvertible {
    /// Which program the process runs.
    public enum Kind: Sendable, Hashable {
        case keyBroker
        case gateway
        /// Replica `replica` (from 0) of the stage whose role is `role`.
        case stage(role: String, replica: Int)
    }

    public let kind: Kind
    /// The host it runs on.
    public let host: String
    /// Where it serves Prometheus metrics.
    public let metrics: MetricsAddress
    /// Services that must have announced readiness before this one is started (the broker,
    /// which every other process attests to first).
    public let dependencies: [String]

    public init(kind: Kind, host: String, metrics: MetricsAddress, dependencies: [String]) {
        self.kind = kind
        self.host = host
        self.metrics = metrics
        self.dependencies = dependencies
    }

    /// A stable, unique name: `kms`, `gateway`, or `ROLE.REPLICA` (`shard-0.1`); role names
    /// cannot contain `.`, so the name is unambiguous.
    public var name: String {
        switch kind {
        case .keyBroker: Topology.keyBrokerName
        case .gateway: Topology.gatewayRole
        case .stage(let role, let replica): "\(role).\(replica)"
        }
    }

    /// The role it attests as; `nil` for the broker, which is the root of trust.
    public var role: String? {
        switch kind {
        case .keyBroker: nil
        case .gateway: Topology.gatewayRole
        case .stage(let role, _): role
        }
    }

    public var description: String { name }
}
