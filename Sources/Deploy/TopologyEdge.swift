public import Topology

/// One connection the pipeline makes: who opens it, which component accepts it, on which port.
/// NetworkPolicies allow exactly these and nothing else (besides name resolution).
public struct TopologyEdge: Sendable, Hashable {
    /// The components that may open the connection; `nil` for clients, who come from anywhere.
    public let from: String?
    /// The component that accepts it (`kms`, `gateway`).
    public let to: String
    public let port: Int
    /// A DNS label naming the edge (`shard-0-to-gateway-backend`).
    public let name: String

    public init(from: String?, to: String, port: Int, name: String) {
        self.from = from
        self.to = to
        self.port = port
        self.name = name
    }

    /// The edges of `topology`: every stage to the gateway's backend and to the key broker;
    /// clients to the gateway's front and to the broker (for the manifest). The gateway opens
    /// no connection at all: stages dial it.
    public static func edges(of topology: Topology) throws(DeployError) -> [TopologyEdge] {
        let broker = try DeploymentTopology.tcpPort(topology.keyBroker.endpoint, place: "kms.endpoint")
        let front = try DeploymentTopology.tcpPort(topology.gateway.front, place: "gateway.front")
        let backend = try DeploymentTopology.tcpPort(topology.gateway.backend, place: "gateway.backend")
        var edges: [TopologyEdge] = []
        for stage in topology.stages {
            edges.append(TopologyEdge(from: stage.name, to: "gateway", port: backend, name: "\(stage.name)-to-gateway"))
            edges.append(TopologyEdge(from: stage.name, to: "kms", port: broker, name: "\(stage.name)-to-kms"))
        }
        edges.append(TopologyEdge(from: nil, to: "gateway", port: front, name: "clients-to-gateway"))
        edges.append(TopologyEdge(from: nil, to: "kms", port: broker, name: "clients-to-kms"))
        return edges
    }
}
