import ArgumentParser
import BrokerClient
import Foundation
import Gateway
import Launcher
import Node
import Observability
import StageRuntime
import Topology
import Workloads

/// `sealpipe gateway`: the front ROUTER for clients and the backend ROUTER for stages. It holds
/// no key: it routes ciphertext, enforces deadlines and limits, and retries hops.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway", abstract: "Run the gateway of a topology (normally started by `sealpipe launch`).")

    @OptionGroup var options: TopologyOption
    @OptionGroup var logging: LoggingOptions

    @Option(
        help: "The key broker's identity public key file (hex) to pin (default: kms-identity.pub beside its state).")
    var brokerKey: String?

    func run() async throws {
        logging.apply()
        let topology = try options.load()
        ParentWatch.startIfSupervised()
        let logger = LoggingSetup.logger("sealpipe.gateway")
        let pinned = try PinnedBrokerKey.load(option: brokerKey, topology: topology)
        // The metrics port is bound (and known) before the gateway announces itself.
        let metricsPort = LateValue(0)
        let service = GatewayService(
            configuration: try topology.gatewayConfiguration(brokerIdentityKey: pinned.bytes),
            frontEndpoint: topology.gateway.front.description,
            backendEndpoint: topology.gateway.backend.description, logger: logger,
            onBound: { front, backend in
                Announcement.ready(
                    service: "gateway",
                    fields: ["front": front, "backend": backend, "metrics": "\(metricsPort.current)"])
            })
        let metrics = try MetricsHTTPServer(
            host: topology.gateway.metrics.host, port: topology.gateway.metrics.port,
            metrics: {
                var exposition = PrometheusExposition()
                service.snapshot.exposition(into: &exposition)
                return exposition.text
            },
            status: { service.snapshot.statusJSON() })
        metricsPort.current = metrics.port
        try await ProcessLifecycle.run(
            [.init(service: metrics, name: "metrics"), .init(service: service, name: "gateway", ends: true)],
            logger: logger)
    }
}
