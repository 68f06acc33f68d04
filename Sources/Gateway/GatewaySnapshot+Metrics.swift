import Foundation
public import Observability

extension GatewaySnapshot {
    /// The gateway's Prometheus metrics: requests, results, errors by code, jobs in flight,
    /// queue depth by role, replicas, retries.
    public func exposition(into exposition: inout PrometheusExposition) {
        exposition.counter("sealpipe_gateway_requests_total", "Client messages received.", Double(counters.requests))
        exposition.counter(
            "sealpipe_gateway_accepted_total", "Jobs accepted into the pipeline.", Double(counters.accepted))
        exposition.counter("sealpipe_gateway_results_total", "Jobs that ended with a result.", Double(counters.results))
        exposition.counter(
            "sealpipe_gateway_errors_total", "Errors sent to clients, all codes.", Double(counters.totalErrors))
        for (code, count) in counters.errors.sorted(by: { $0.key < $1.key }) {
            exposition.counter(
                "sealpipe_gateway_errors_by_code_total", "Errors sent to clients, by code.", Double(count),
                labels: ["code": code])
        }
        for (share, count) in counters.busyOverShare.sorted(by: { $0.key < $1.key }) {
            exposition.counter(
                "sealpipe_gateway_busy_over_share_total",
                "Requests refused busy because their client or peer address held its share of maxInFlight, by share.",
                Double(count), labels: ["share": share])
        }
        for (reason, count) in counters.droppedFromReplicas.sorted(by: { $0.key < $1.key }) {
            exposition.counter(
                "sealpipe_gateway_replica_drops_total", "Replica messages dropped, by reason.", Double(count),
                labels: ["reason": reason])
        }
        for (socket, count) in counters.discarded.sorted(by: { $0.key < $1.key }) {
            exposition.counter(
                "sealpipe_gateway_discarded_messages_total",
                "Messages over a socket's frame or byte bound, drained unread.", Double(count),
                labels: ["socket": socket])
        }
        for (reason, count) in counters.clientsClosed.sorted(by: { $0.key < $1.key }) {
            exposition.counter(
                "sealpipe_gateway_clients_closed_total",
                "Client connections the front closed (protocol violations, budget, connection limit), by reason.",
                Double(count), labels: ["reason": reason])
        }
        for (check, count) in counters.announcementsRefused.sorted(by: { $0.key < $1.key }) {
            exposition.counter(
                "sealpipe_gateway_announcements_refused_total",
                "Replica announcements refused (no proof of an attested role), by failed check.", Double(count),
                labels: ["check": check])
        }
        exposition.counter(
            "sealpipe_gateway_retries_total", "Hops dispatched again after a replica died.", Double(counters.retries))
        exposition.counter(
            "sealpipe_gateway_replicas_lost_total", "Replicas declared dead.", Double(counters.replicasLost))
        exposition.gauge("sealpipe_gateway_jobs_in_flight", "Accepted jobs not yet ended.", Double(jobsInFlight))
        for (role, depth) in queueDepths.sorted(by: { $0.key < $1.key }) {
            exposition.gauge(
                "sealpipe_gateway_queue_depth", "Jobs waiting for a replica, by role.", Double(depth),
                labels: ["role": role])
        }
        var replicasByRole: [String: Int] = [:]
        for replica in replicas { replicasByRole[replica.role, default: 0] += 1 }
        for (role, count) in replicasByRole.sorted(by: { $0.key < $1.key }) {
            exposition.gauge(
                "sealpipe_gateway_replicas", "Live replicas, by role.", Double(count), labels: ["role": role])
        }
    }

    /// JSON for `sealpipe status`.
    public func statusJSON() -> String {
        struct Status: Encodable {
            let jobsInFlight: Int
            let draining: Bool
            let requests: Int
            let accepted: Int
            let results: Int
            let errors: [String: Int]
            let busyOverShare: [String: Int]
            let droppedFromReplicas: [String: Int]
            let announcementsRefused: [String: Int]
            let retries: Int
            let replicasLost: Int
            let queueDepths: [String: Int]
            let replicas: [ReplicaStatus]
        }
        let status = Status(
            jobsInFlight: jobsInFlight, draining: draining, requests: counters.requests, accepted: counters.accepted,
            results: counters.results, errors: counters.errors, busyOverShare: counters.busyOverShare,
            droppedFromReplicas: counters.droppedFromReplicas,
            announcementsRefused: counters.announcementsRefused, retries: counters.retries,
            replicasLost: counters.replicasLost,
            queueDepths: queueDepths, replicas: replicas)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(status), as: UTF8.self)) ?? "{}"
    }
}
