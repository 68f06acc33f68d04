import Foundation
import Observability
import Topology

/// Reads every stage replica's `/metrics` from the addresses a topology names, for
/// `sealpipe loadtest --trace` to compare before and after a run.
enum StageScrape {
    /// One parsed exposition per stage replica; throws naming the replica that did not answer
    /// (a trace missing a stage would put its time in "the rest" silently).
    static func samples(of topology: Topology) throws -> [PrometheusSamples] {
        try topology.services.compactMap { service -> PrometheusSamples? in
            guard case .stage = service.kind else { return nil }
            let address = service.metrics
            let host =
                address.host == "*" || address.host == "0.0.0.0"
                ? (topology.host(named: service.host)?.address ?? "127.0.0.1") : address.host
            do {
                return PrometheusSamples(parsing: try HTTPGet.fetch(host: host, port: address.port, path: "/metrics"))
            } catch {
                throw ScrapeError(service: service.name, address: "\(host):\(address.port)", underlying: "\(error)")
            }
        }
    }

    struct ScrapeError: Error, CustomStringConvertible {
        let service: String
        let address: String
        let underlying: String
        var description: String { "--trace: could not read the metrics of \(service) at \(address): \(underlying)" }
    }
}
