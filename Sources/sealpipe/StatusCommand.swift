import ArgumentParser
import BrokerClient
import Foundation
import Launcher
import Node
import Observability
import StageRuntime
import Topology
import Workloads
import ZeroMQ

/// `sealpipe status`: each service's state, queue depth and counters, read from the metrics
/// endpoints the topology names (so it works from any machine that can reach them).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show each service's state, queue depth and counters.")

    @OptionGroup var options: TopologyOption

    @Option(help: "Only the services of this host.")
    var host: String?

    @Flag(help: "Print the raw status JSON of every service, one line each.")
    var json = false

    func run() throws {
        let topology = try options.load()
        let services = host.map { topology.services(onHost: $0) } ?? topology.services
        if let host, services.isEmpty { throw ValidationError("no services on host \"\(host)\"") }
        print("pipeline \(topology.name): front \(topology.frontEndpoint)")
        if let warning = EvidenceBanner.simulatedWarning(EvidenceBanner.summaries(of: topology)) { print(warning) }
        if !json { print(modelVersionLine(topology: topology)) }
        let header = ["SERVICE", "STATE", "QUEUE", "IN-FLIGHT", "RECEIVED", "DONE", "REFUSED", "DETAIL"]
        var rows: [[String]] = []
        for service in services {
            let address = service.metrics
            let fetchHost =
                address.host == "*" || address.host == "0.0.0.0"
                ? (topology.host(named: service.host)?.address ?? "127.0.0.1") : address.host
            guard let text = try? HTTPGet.fetch(host: fetchHost, port: address.port, path: "/status") else {
                rows.append([
                    service.name, "down", "-", "-", "-", "-", "-", "no answer at \(fetchHost):\(address.port)",
                ])
                continue
            }
            if json {
                print("\(service.name) \(text)")
                continue
            }
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
            func int(_ key: String) -> String { (object[key] as? Int).map(String.init) ?? "-" }
            func sum(_ key: String) -> String {
                (object[key] as? [String: Int]).map { String($0.values.reduce(0, +)) } ?? "-"
            }
            switch service.kind {
            case .gateway:
                let queued = (object["queueDepths"] as? [String: Int]).map { String($0.values.reduce(0, +)) } ?? "-"
                let replicas = (object["replicas"] as? [Any])?.count ?? 0
                let state = (object["draining"] as? Bool) == true ? "draining" : "up"
                rows.append([
                    service.name, state, queued, int("jobsInFlight"), int("requests"), int("results"), sum("errors"),
                    "replicas=\(replicas) retries=\(int("retries"))",
                ])
            case .stage:
                rows.append([
                    service.name, "up", int("queueDepth"), "-", int("received"), int("processed"), sum("rejected"),
                    "capacity=\(int("capacity")) batches=\(int("batches"))",
                ])
            case .keyBroker:
                rows.append([
                    service.name, "up", "-", "-", int("requests"), int("releases"), sum("refusals"),
                    "nonces=\(int("nonces")) errors=\(int("errors"))",
                ])
            }
        }
        guard !json else { return }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            print(
                row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(
                    separator: "  "))
        }
    }

    /// The model version the key broker's manifest names, with each shard's content hash. Read
    /// for display only; clients verify the manifest before trusting it.
    func modelVersionLine(topology: Topology) -> String {
        guard let context = try? ZMQContext(),
            let manifest = try? KeyBrokerClient(
                endpoint: topology.keyBrokerEndpoint.description, context: context, timeout: .seconds(2)
            ).fetchManifestWaiting()
        else {
            return "model version: unknown (no manifest from the key broker at \(topology.keyBrokerEndpoint))"
        }
        let shards = manifest.policySummary.filter { !$0.shardDigest.isEmpty }.map {
            "\($0.role) sha256:\($0.shardDigest.prefix(16))…"
        }
        return "model version \(manifest.modelVersion)"
            + (shards.isEmpty ? " (no model shards)" : " (\(shards.joined(separator: ", ")))")
    }
}
