import Attestation
import Foundation
import Sodium
public import Topology

/// The topology file a deployment delivers to every pod: the operator's topology with its
/// placement rewritten for containers (endpoints to Service or pod DNS names, paths to the
/// container's volumes, metrics on every interface) and everything that decides how data is
/// treated (model, stages, batching, limits, policy) kept exactly.
///
/// Its SHA-256 is the topology digest: the simulated TEE measures it with each role's
/// configuration, the CoCo initdata carries it, and the key broker refuses any other.
public struct DeploymentTopology: Sendable, Hashable {
    /// Where the pieces live inside every container.
    public enum Paths {
        public static let topologyDirectory = "/etc/sealpipe"
        public static let topology = "/etc/sealpipe/topology.yaml"
        /// The broker's own volume: its SQLite state and root key.
        public static let state = "/var/lib/sealpipe/state"
        /// The volume the broker fills, where the stages read: sealed shards (`ROLE.sealed`, beside
        /// the broker's state as `sealpipe launch` keeps them) and the model's non-weight files.
        public static let weights = "/var/lib/sealpipe/state/weights"
        /// The broker's identity public key, which the broker writes into the weights volume and
        /// the gateway and every node pin.
        public static let brokerIdentity = "/var/lib/sealpipe/state/weights/kms-identity.pub"
        /// The topology's model directory: the non-weight files the broker copied.
        public static let model = "/var/lib/sealpipe/state/weights/model"
        /// The whole model, weights included: the broker's model volume, mounted in its pod only.
        public static let modelSource = "/var/lib/sealpipe/model"
        /// The simulated TEE's platform key (a stand-in for hardware, so it comes from the node).
        public static let platform = "/var/lib/sealpipe/platform"
        public static let scratch = "/tmp"
    }

    /// The port every service serves `/metrics` and `/status` on inside its own network namespace.
    public static let metricsPort = 9400

    /// The YAML text delivered as `topology.yaml`.
    public let text: String
    /// SHA-256 of `text`, lower-case hex.
    public let digest: String
    /// `text` decoded again: proof that what is delivered is a valid topology.
    public let topology: Topology

    /// Rewrites `source` so that the broker is reached at `brokerAddress`, the gateway at
    /// `gatewayAddress`, and every path points into the container volumes.
    public init(
        source: Topology, brokerAddress: String, gatewayAddress: String, header: String
    ) throws(DeployError) {
        let brokerPort = try Self.tcpPort(source.keyBroker.endpoint, place: "kms.endpoint")
        let frontPort = try Self.tcpPort(source.gateway.front, place: "gateway.front")
        let backendPort = try Self.tcpPort(source.gateway.backend, place: "gateway.backend")
        var lines = header.split(separator: "\n", omittingEmptySubsequences: false).map { "# " + $0 }
        func q(_ text: String) -> String { ManifestValue.quoted(text) }
        func duration(_ value: Duration) -> String { UnitText.format(value) }
        lines.append("name: \(source.name)")
        var model = "model: {kind: \(source.model.kind.rawValue)"
        if source.model.kind != .echo {
            model += ", directory: \(q(Paths.model)), layers: \(source.model.layers)"
        }
        lines.append(model + "}")
        // These hosts are names for addresses, not machines: every pod reads the simulated platform
        // key of the machine it runs on from the same hostPath, so each names that one path.
        let platformKey = "platformKey: \(q(Paths.platform + "/platform.pub"))"
        lines.append("hosts:")
        lines.append("  broker: {address: \(q(brokerAddress)), \(platformKey)}")
        lines.append("  front: {address: \(q(gatewayAddress)), \(platformKey)}")
        // Stages bind nothing but metrics; each has a network namespace of its own.
        lines.append("  pods: {address: \"0.0.0.0\", \(platformKey)}")
        lines.append("kms:")
        lines.append("  host: broker")
        lines.append("  endpoint: \"tcp://*:\(brokerPort)\"")
        lines.append("  state: \(q(Paths.state + "/kms.sqlite"))")
        lines.append("  rootKey: \(q(Paths.state + "/root.key"))")
        lines.append(
            "  rotation: {epoch: \(duration(source.keyBroker.epoch)), grace: \(duration(source.keyBroker.grace))}")
        lines.append("  manifestTTL: \(duration(source.keyBroker.manifestTTL))")
        lines.append("  metrics: \"0.0.0.0:\(Self.metricsPort)\"")
        lines.append("  policy:")
        lines.append("    default: \(Self.policyText(source.releasePolicy.roles[Topology.gatewayRole]))")
        lines.append("    roles:")
        for role in source.roles {
            lines.append("      \(role): \(Self.policyText(source.releasePolicy.roles[role]))")
        }
        let gateway = source.gateway
        lines.append("gateway:")
        lines.append("  host: front")
        lines.append("  front: \"tcp://*:\(frontPort)\"")
        lines.append("  backend: \"tcp://*:\(backendPort)\"")
        lines.append("  maxInFlight: \(gateway.maxInFlight)")
        // Only when the source sets them, so a topology without them renders, and is measured, as before.
        if let share = gateway.maxInFlightPerClient { lines.append("  maxInFlightPerClient: \(share)") }
        if let share = gateway.maxInFlightPerAddress { lines.append("  maxInFlightPerAddress: \(share)") }
        lines.append("  maxPayload: \(gateway.maxPayload)")
        lines.append("  deadline: \(duration(gateway.deadline))")
        lines.append("  maxDeadline: \(duration(gateway.maxDeadline))")
        lines.append(
            "  heartbeat: {interval: \(duration(gateway.heartbeatInterval)), "
                + "timeout: \(duration(gateway.heartbeatTimeout))}")
        lines.append("  maxAttempts: \(gateway.maxAttempts)")
        lines.append("  metrics: \"0.0.0.0:\(Self.metricsPort)\"")
        // Stage pods serve metrics on `metricsPort` (`sealpipe node --metrics-port`); the derived
        // ports here only keep the file valid.
        lines.append("metrics: {basePort: \(Self.metricsPort + 1)}")
        lines.append("stages:")
        for stage in source.stages {
            var text = "  - {name: \(stage.name), kind: \(stage.kind.rawValue), host: pods, replicas: \(stage.replicas)"
            if let layers = stage.layers { text += ", layers: [\(layers.lowerBound), \(layers.upperBound)]" }
            text += ", batching: {maxBatch: \(stage.maxBatch), maxDelay: \(duration(stage.maxDelay))}"
            text += ", queue: \(stage.queue), threads: \(stage.threads)}"
            lines.append(text)
        }
        let text = lines.joined(separator: "\n") + "\n"
        let decoded: Topology
        do {
            decoded = try Topology(yaml: text)
        } catch {
            throw DeployError("topology", "the rewritten topology does not validate: \(error)")
        }
        self.text = text
        self.digest = Hex.encode(SHA256.hash(Array(text.utf8)))
        self.topology = decoded
    }

    /// The TCP port of an endpoint; containers talk TCP only.
    static func tcpPort(_ endpoint: Endpoint, place: String) throws(DeployError) -> Int {
        guard case .tcp(_, let port) = endpoint else {
            throw DeployError(place, "\(endpoint) is not a tcp:// endpoint; pods reach each other over TCP only")
        }
        return port
    }

    /// A role's policy as the topology file writes it: `{evidence: {KIND: {…}}}`, each kind's
    /// constraints as JSON (YAML reads JSON), so every constraint (SEV-SNP, TDX, GPU) survives.
    static func policyText(_ policy: RolePolicy?) -> String {
        guard let policy else { return "{}" }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(policy.evidence) else { return "{}" }
        return "{evidence: \(String(decoding: json, as: UTF8.self))}"
    }
}
