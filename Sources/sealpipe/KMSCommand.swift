import ArgumentParser
import Attestation
import BrokerClient
import Foundation
import KeyBroker
import Launcher
import Logging
import Node
import Observability
import Sodium
import StageRuntime
import Topology
import Workloads
import ZeroMQ

/// `sealpipe kms`: run the key broker, or create its root key.
struct KMSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kms", abstract: "Run the key broker (attestation, key release, transparency log).",
        subcommands: [Serve.self, InitRootKey.self], defaultSubcommand: Serve.self)

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serve key requests until SIGINT or SIGTERM.",
            discussion: """
                Prints one line `kms listening ENDPOINT identity HEX` once the socket is bound, then a JSON
                announcement line for the launcher.
                  sealpipe kms --topology Topologies/minilm.yaml     (what `sealpipe launch` runs)
                  sealpipe kms --config kms.json                     (a stand-alone broker)
                """)

        @Option(help: "A KeyBrokerConfiguration JSON file.")
        var config: String?

        @Option(help: "A topology file: the broker's configuration, policy and metrics address come from it.")
        var topology: String?

        @Option(help: "Bind here instead of the configuration's endpoint (e.g. tcp://127.0.0.1:0).")
        var endpoint: String?

        @Option(help: "Serve /metrics and /status on this TCP port of 127.0.0.1 (0 picks one).")
        var metricsPort: Int?

        @Option(
            help: """
                Refuse to start unless the topology file's SHA-256 (hex) is this one: the digest a rendered \
                deployment pins, so that an edited topology ConfigMap stops the broker instead of changing its policy.
                """)
        var expectTopologyDigest: String?

        @Option(
            name: .customLong("host-data"),
            help: """
                ROLE=SHA256 (hex): the configuration a confidential pod of ROLE is launched with, as its \
                HOST_DATA (SEV-SNP) or MRCONFIGID (TDX, zero-padded) carries it: the digest of its CoCo initdata \
                document. Given by `sealpipe render kubernetes`; repeat for each role.
                """)
        var hostData: [String] = []

        @Flag(
            help: """
                Before serving, create the root key if missing and seal missing weight shards (what a containerised \
                broker does; `sealpipe launch` does it itself).
                """)
        var prepare = false

        @Option(
            help: """
                With --prepare: read the model's weights from this directory (the broker's own volume) and copy \
                its non-weight files to the topology's model directory, where the stages read them.
                """)
        var modelSource: String?

        @OptionGroup var logging: LoggingOptions

        func run() async throws {
            logging.apply()
            var configuration: KeyBrokerConfiguration
            var metrics = metricsPort.map { (host: "127.0.0.1", port: $0) }
            switch (config, topology) {
            case (let config?, nil):
                guard !prepare, expectTopologyDigest == nil, modelSource == nil else {
                    throw ValidationError("--prepare, --model-source and --expect-topology-digest need --topology")
                }
                do {
                    configuration = try KeyBrokerConfiguration.load(from: URL(fileURLWithPath: config))
                } catch {
                    throw ValidationError("--config \(config): \(error)")
                }
            case (nil, let topology?):
                let loaded = try TopologyCommand.load(topology)
                if let expected = expectTopologyDigest?.lowercased(), expected != Hex.encode(loaded.digest) {
                    throw ValidationError(
                        "--topology \(topology): its SHA-256 is \(Hex.encode(loaded.digest)), "
                            + "not the expected \(expected); refusing to serve an edited topology")
                }
                if prepare {
                    try BrokerPreparation.prepare(topology: loaded, modelSource: modelSource) {
                        Output.line("[kms] \($0)")
                    }
                } else if modelSource != nil {
                    throw ValidationError("--model-source needs --prepare")
                }
                let digest = try SimulatedTEE.executableDigest(of: SimulatedTEE.runningExecutable)
                // The shards' content hashes come from the weights they are sealed from.
                configuration = try loaded.keyBrokerConfiguration(
                    executableDigest: digest, weightsDirectory: modelSource)
                // Under Confidential Containers the launch configuration is the pod's initdata, not
                // the role's configuration bytes: a report must carry its digest, or no keys.
                for entry in hostData {
                    let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2, loaded.stageRoles.contains(parts[0]),
                        let digest = Hex.decode(parts[1].lowercased()), digest.count == 32
                    else {
                        throw ValidationError(
                            "--host-data \(entry): want ROLE=SHA256 with a stage role and 64 hex digits")
                    }
                    var digests = configuration.configurationDigests ?? [:]
                    digests[parts[0]] = Hex.encode(digest + [UInt8](repeating: 0, count: 16))
                    configuration.configurationDigests = digests
                }
                if metrics == nil { metrics = (loaded.keyBroker.metrics.host, loaded.keyBroker.metrics.port) }
            default:
                throw ValidationError("give exactly one of --config FILE or --topology FILE")
            }
            if let endpoint { configuration.endpoint = endpoint }
            try await KMSCommand.serve(configuration, metrics: metrics, logger: LoggingSetup.logger("sealpipe.kms"))
        }
    }

    struct InitRootKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init-root-key", abstract: "Create a new 32-byte root key file with mode 0600.")

        @Argument(help: "Where to write the root key; an existing file is never overwritten.")
        var path: String

        func run() throws {
            try RootKey.create(at: path)
            print(
                "root key written to \(path) (mode 0600); keep it secret and back it up: the broker's state cannot be opened without it"
            )
        }
    }

    /// Runs the broker for `configuration` until SIGINT or SIGTERM, then stops cleanly.
    /// The lead's topology-driven launch calls this with a configuration built from the topology.
    static func serve(_ configuration: KeyBrokerConfiguration, metrics: (host: String, port: Int)?, logger: Logger)
        async throws
    {
        let store = try KeyBrokerStore(path: configuration.statePath, rootKeyPath: configuration.rootKeyPath)
        let core = try KeyBrokerCore(
            configuration: configuration, store: store, verifier: try configuration.evidenceVerifier(), logger: logger)
        let context = try ZMQContext()
        defer { context.shutdown() }
        let metricsServer = try metrics.map { address in
            try MetricsHTTPServer(
                host: address.host, port: address.port, metrics: { core.metrics.exposition() },
                status: { core.metrics.statusJSON(pipeline: configuration.pipelineID) })
        }
        let metricsPort = metricsServer?.port ?? 0
        let identity = Hex.encode(core.identityPublicKey.bytes)
        let service = KeyBrokerService(
            core: core, context: context, endpoint: configuration.endpoint, logger: logger,
            onListening: { endpoint in
                // One unbuffered line, so a supervisor or test can wait for it instead of sleeping.
                FileHandle.standardOutput.write(Data("kms listening \(endpoint) identity \(identity)\n".utf8))
                Announcement.ready(
                    service: "kms", fields: ["endpoint": endpoint, "identity": identity, "metrics": "\(metricsPort)"])
            })

        ParentWatch.startIfSupervised()
        var members: [ProcessLifecycle.Member] = []
        if let metricsServer { members.append(.init(service: metricsServer, name: "metrics")) }
        members.append(.init(service: service, name: "kms", ends: true))
        try await ProcessLifecycle.run(members, logger: logger)
    }
}
