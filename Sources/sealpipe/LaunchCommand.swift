import ArgumentParser
import Attestation
import BrokerClient
import Foundation
import KeyBroker
import Launcher
import Logging
import Node
import Sodium
import StageRuntime
import Topology
import Trust
import Workloads
import ZeroMQ

/// `sealpipe launch TOPOLOGY`: bring a whole pipeline (or one host's share) up, supervise it,
/// and drain it on Ctrl-C or SIGTERM.
struct LaunchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "launch",
        abstract: "Start the key broker, the gateway and every stage of a topology, and supervise them.",
        discussion: """
            Each service runs as its own `sealpipe` process. The launcher waits until every one has attested,
            received its keys and announced its endpoint, prints the front endpoint and the manifest fingerprint,
            restarts crashed processes with backoff, and on Ctrl-C or SIGTERM drains in-flight jobs and exits 0.
            """)

    @Argument(help: "The topology file (YAML).")
    var topology: String = "Topologies/minilm.yaml"

    @Option(help: "Start only this host's share of a multi-host topology.")
    var host: String?

    @Option(help: "Where the simulated TEE's platform key lives (created if missing).")
    var platformKeyDirectory: String = ".sealpipe"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        logging.apply()
        let loaded = try TopologyCommand.load(topology)
        let logger = LoggingSetup.logger("sealpipe.launch")
        if let host, loaded.host(named: host) == nil {
            throw ValidationError(
                "--host \(host): not a host of \(loaded.name) (hosts: \(loaded.hosts.map(\.name).joined(separator: ", ")))"
            )
        }
        let services = host.map { loaded.services(onHost: $0) } ?? loaded.services
        guard !services.isEmpty else { throw ValidationError("no services to start on host \(host ?? "-")") }
        for endpoint in [loaded.gateway.front, loaded.gateway.backend, loaded.keyBroker.endpoint]
        where endpoint.description.hasPrefix("inproc://") {
            throw ValidationError("\(endpoint): inproc endpoints cannot cross processes; use tcp:// or ipc://")
        }

        try LaunchPreparation.prepare(
            topology: loaded, host: host, platformKeyDirectory: URL(fileURLWithPath: platformKeyDirectory)
        ) { Output.line("[launch] \($0)") }

        let topologyPath = topology
        let defaultKeyDirectory = URL(fileURLWithPath: platformKeyDirectory)
        // Written by the preparation on the broker's host, copied to the others: the gateway and
        // every node pin it.
        let identityFile = LaunchPreparation.brokerIdentityFile(topology: loaded)
        let brokerKey = identityFile.path
        let launcher = Launcher(
            services: services,
            options: .init(
                // The very build running now: the key broker measures the same file as the reference.
                executable: SimulatedTEE.runningExecutable.resolvingSymlinksInPath(),
                arguments: { service in
                    switch service.kind {
                    case .keyBroker: ["kms", "--topology", topologyPath]
                    case .gateway: ["gateway", "--topology", topologyPath, "--broker-key", brokerKey]
                    case .stage(let role, let replica):
                        [
                            "node", "--topology", topologyPath, "--role", role, "--replica", String(replica),
                            "--platform-key",
                            LaunchPreparation.platformKeyFile(
                                topology: loaded, host: loaded.stage(named: role)?.host ?? "",
                                default: defaultKeyDirectory
                            ).path,
                            "--broker-key", brokerKey,
                        ]
                    }
                }),
            logger: logger,
            onAllReady: { announcements in
                if let identity = announcements["kms"]?["identity"] {
                    try? Data((identity + "\n").utf8).write(to: identityFile, options: .atomic)
                }
                Task { await Self.reportReady(topology: loaded, announcements: announcements, logger: logger) }
            },
            onShutdown: { Output.line("[launch] shutting down (SIGINT or SIGTERM): draining in-flight jobs") })
        Output.line(
            "[launch] starting \(services.count) service(s) of \(loaded.name)\(host.map { " on host \($0)" } ?? "")")
        if let warning = EvidenceBanner.simulatedWarning(EvidenceBanner.summaries(of: loaded)) {
            Output.line("[launch] \(warning)")
        }
        try await ProcessLifecycle.run(
            [.init(service: launcher, name: "launcher", ends: true)], logger: logger)
        let gaveUp = launcher.servicesGivenUp
        if gaveUp.isEmpty {
            Output.line("[launch] all services stopped cleanly")
        } else {
            for (service, reason) in gaveUp.sorted(by: { $0.key < $1.key }) {
                Output.line("[launch] gave up on \(service): \(reason)")
            }
            throw ExitCode(1)
        }
    }

    /// Prints where clients connect and the manifest's fingerprint, once every service is up.
    static func reportReady(topology: Topology, announcements: [String: [String: String]], logger: Logger) async {
        var lines = ["[launch] pipeline \(topology.name) is up: every service attested, keyed and announced"]
        lines.append("[launch] front endpoint: \(topology.frontEndpoint)")
        do {
            let context = try ZMQContext()
            let client = KeyBrokerClient(
                endpoint: topology.keyBrokerEndpoint.description, context: context, timeout: .seconds(5))
            let manifest = try await client.fetchManifest()
            lines.append(
                "[launch] manifest: sha256:\(Hex.encode(SHA256.hash(manifest.signedBytes))) epoch \(manifest.frontKey.epoch), expires \(Date(timeIntervalSince1970: Double(manifest.expiresAt) / 1000))"
            )
        } catch {
            lines.append("[launch] manifest: could not be fetched from this host (\(error))")
        }
        if let identity = announcements["kms"]?["identity"] {
            lines.append("[launch] key broker identity: \(identity)")
        }
        lines += EvidenceBanner.lines(EvidenceBanner.summaries(of: topology)).map { "[launch] \($0)" }
        Output.line(lines.joined(separator: "\n"))
        Announcement.ready(
            service: "launch", fields: ["front": topology.frontEndpoint.description, "pipeline": topology.name])
    }
}
