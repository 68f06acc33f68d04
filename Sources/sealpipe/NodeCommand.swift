import ArgumentParser
import Attestation
import BrokerClient
import Foundation
import Launcher
import Node
import Observability
import Sodium
import StageRuntime
import TimeUnits
import Topology
import Workloads
import ZeroMQ

/// `sealpipe node`: one stage replica. It attests to the key broker, gets its role's keys (and a
/// worker its weight key), opens its sealed shard in memory, and serves hops from the gateway.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Run one stage replica of a topology (normally started by `sealpipe launch`).")

    @OptionGroup var options: TopologyOption
    @OptionGroup var logging: LoggingOptions

    @Option(help: "The stage (role) to run, e.g. shard-0.")
    var role: String

    @Option(help: "Which replica of the stage this is (0-based).")
    var replica: Int = 0

    @Flag(
        help: """
            Take the replica number from the host name's trailing `-N` (a Kubernetes StatefulSet pod's ordinal) \
            instead of --replica.
            """)
    var replicaFromHostname = false

    @Option(
        help: """
            Serve metrics on this port instead of the topology's (a container has a network of its own, so every \
            replica can use the same port and the same probes).
            """)
    var metricsPort: Int?

    @Option(
        help:
            "This host's simulated-TEE platform key (used only if the role's policy accepts simulated evidence and the host has no TEE)."
    )
    var platformKey: String = ".sealpipe/platform.key"

    @Option(help: "The sealed weight shard (default: beside the key broker's state, weights/ROLE.sealed).")
    var weights: String?

    @Option(
        help: "The key broker's identity public key file (hex) to pin (default: kms-identity.pub beside its state).")
    var brokerKey: String?

    func run() async throws {
        logging.apply()
        let topology = try options.load()
        ParentWatch.startIfSupervised()
        let replica = try replicaFromHostname ? Self.ordinal(ofHostName: ProcessInfo.processInfo.hostName) : replica
        let logger = LoggingSetup.logger("sealpipe.node.\(role).\(replica)")
        guard let stage = topology.stage(named: role) else {
            throw ValidationError(
                "--role \(role): not a stage of \(topology.name) (stages: \(topology.stageRoles.joined(separator: ", ")))"
            )
        }
        guard (0..<stage.replicas).contains(replica) else {
            throw ValidationError("--replica \(replica): \(role) has \(stage.replicas) replica(s)")
        }
        let platformKeyFile = URL(fileURLWithPath: platformKey)
        let pinned = try PinnedBrokerKey.load(option: brokerKey, topology: topology)
        // The measurement covers the model files this role reads; they are hashed again once the
        // workload is loaded, so a file swapped in between is caught before the stage serves.
        let modelFileDigests = try ModelFileDigests.compute(topology: topology, role: role)
        let context = try ZMQContext()
        let attestStart = ContinuousClock.now
        let bundle = try await StageNode.attest(
            topology: topology, role: role, modelFileDigests: modelFileDigests, platformKeyFile: platformKeyFile,
            pinnedBrokerKey: pinned, context: context, logger: logger)
        let attestation = ContinuousClock.now - attestStart
        logger.info(
            "attested and received keys", metadata: ["epoch": "\(bundle.schedule.epoch)", "duration": "\(attestation)"])
        let keys = try StageNode.stageKeys(bundle: bundle, topology: topology, role: role)
        let workload = try StageNode.workload(
            topology: topology, stage: stage, bundle: bundle, weightsFile: weights.map { URL(fileURLWithPath: $0) },
            logger: logger)
        try ModelFileDigests.verifyUnchanged(modelFileDigests, topology: topology, role: role)
        if let encoder = workload as? EncoderWorkload { EngineStartup.reportModel(encoder.model) }
        let runtime = StageRuntime(
            keys: keys, workload: workload,
            settings: .init(
                replica: replica, gatewayEndpoint: topology.backendEndpoint.description, maxBatch: stage.maxBatch,
                maxDelay: stage.maxDelay, capacity: stage.queue, heartbeatInterval: topology.gateway.heartbeatInterval,
                maxDeadline: topology.gateway.maxDeadline),
            logger: logger)
        runtime.recordAttestation(seconds: attestation.secondsValue)
        var address = stage.metrics(replica: replica)
        if let metricsPort { address = MetricsAddress(host: address.host, port: metricsPort) }
        let role = self.role
        let metrics = try MetricsHTTPServer(
            host: address.host, port: address.port,
            metrics: {
                var exposition = PrometheusExposition()
                runtime.snapshot.exposition(role: role, replica: replica, into: &exposition)
                return exposition.text
            },
            status: { runtime.snapshot.statusJSON(role: role, replica: replica, epochs: runtime.epochs) })
        let rotation = KeyRotationService(
            runtime: runtime, bundle: bundle, topology: topology, role: role, modelFileDigests: modelFileDigests,
            platformKeyFile: platformKeyFile, pinnedBrokerKey: pinned, context: context, logger: logger)
        Announcement.ready(
            service: "\(role).\(replica)",
            fields: ["role": role, "metrics": "\(metrics.port)", "epoch": "\(bundle.schedule.epoch)"])
        // Shut down in reverse: rotation stops, the stage drains, then the metrics endpoint closes.
        try await ProcessLifecycle.run(
            [
                .init(service: metrics, name: "metrics"), .init(service: runtime, name: "stage", ends: true),
                .init(service: rotation, name: "key-rotation"),
            ],
            logger: logger)
    }

    /// The ordinal a StatefulSet gives its pod as the host name's last `-N`.
    static func ordinal(ofHostName name: String) throws -> Int {
        let short = name.split(separator: ".").first.map(String.init) ?? name
        guard let dash = short.lastIndex(of: "-"), let ordinal = Int(short[short.index(after: dash)...]), ordinal >= 0
        else {
            throw ValidationError("--replica-from-hostname: host name \(name) does not end in -N")
        }
        return ordinal
    }
}
