public import Attestation

/// A pipeline as an operator describes it in `Topologies/*.yaml`, decoded and validated once
/// into a fully-resolved value: every default applied, every reference checked, every endpoint
/// parsed. Services read their settings from here and never from the YAML.
///
/// Build one with `Topology(yaml:)` or `Topology.load(path:)`; both report every problem in the
/// file at once, each at its place.
public struct Topology: Sendable, Hashable {
    /// The role name of the gateway in policies, keys and routing.
    public static let gatewayRole = "gateway"
    /// The service name of the key broker (it has no role: it is the root of trust).
    public static let keyBrokerName = "kms"

    /// The topology's name (`[a-z0-9][a-z0-9-]*`), used in default state paths.
    public let name: String
    public let model: ModelSpec
    /// Every host, sorted by name.
    public let hosts: [HostSpec]
    public let keyBroker: KeyBrokerSpec
    public let gateway: GatewaySpec
    /// The stages in pipeline order.
    public let stages: [StageSpec]
    /// What the broker demands of each role (every role has an entry, defaults applied).
    public let releasePolicy: ReleasePolicy
    /// SHA-256 of the exact YAML text this topology was decoded from: what a node's evidence
    /// binds (through its measured configuration) and what the key broker compares with its own.
    public internal(set) var digest: [UInt8] = []

    init(
        name: String, model: ModelSpec, hosts: [HostSpec], keyBroker: KeyBrokerSpec, gateway: GatewaySpec,
        stages: [StageSpec], releasePolicy: ReleasePolicy
    ) {
        self.name = name
        self.model = model
        self.hosts = hosts
        self.keyBroker = keyBroker
        self.gateway = gateway
        self.stages = stages
        self.releasePolicy = releasePolicy
    }

    /// Every role in pipeline order: the gateway, then each stage (`gateway`, `preprocessor`,
    /// `shard-0`, …, `postprocessor`). A job's hops go around this ring and back to the gateway.
    public var roles: [String] {
        [Topology.gatewayRole] + stages.map(\.name)
    }

    /// The stages' roles in pipeline order, without the gateway: the first receives client
    /// requests, the last produces results (the gateway's routing table).
    public var stageRoles: [String] {
        stages.map(\.name)
    }

    /// The role whose hops `role` receives (the gateway for the first stage, the last stage for
    /// the gateway), or `nil` for an unknown role.
    public func previousRole(of role: String) -> String? {
        let roles = roles
        guard let index = roles.firstIndex(of: role) else { return nil }
        return roles[(index + roles.count - 1) % roles.count]
    }

    /// The role `role` sends its results to (the first stage for the gateway, the gateway for
    /// the last stage), or `nil` for an unknown role.
    public func nextRole(of role: String) -> String? {
        let roles = roles
        guard let index = roles.firstIndex(of: role) else { return nil }
        return roles[(index + 1) % roles.count]
    }

    /// The stage serving `role`, or `nil` (also for the gateway, which is not a stage).
    public func stage(named role: String) -> StageSpec? {
        stages.first { $0.name == role }
    }

    /// The host named `name`, or `nil`.
    public func host(named name: String) -> HostSpec? {
        hosts.first { $0.name == name }
    }

    /// The address of the host named `name`; the name itself if there is no such host (the
    /// validated topology never refers to one).
    func address(ofHost name: String) -> String {
        host(named: name)?.address ?? name
    }

    /// The endpoint clients connect to (the gateway's front bind, with a wildcard host replaced
    /// by the gateway host's address).
    public var frontEndpoint: Endpoint {
        gateway.front.connectable(hostAddress: address(ofHost: gateway.host))
    }

    /// The endpoint stage replicas connect their DEALER to.
    public var backendEndpoint: Endpoint {
        gateway.backend.connectable(hostAddress: address(ofHost: gateway.host))
    }

    /// The endpoint every process attests to and clients fetch the manifest from.
    public var keyBrokerEndpoint: Endpoint {
        keyBroker.endpoint.connectable(hostAddress: address(ofHost: keyBroker.host))
    }
}
