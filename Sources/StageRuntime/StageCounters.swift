import Foundation
public import Observability

/// What a stage replica has done; read by metrics and `sealpipe status`.
public struct StageCounters: Sendable {
    /// Jobs received: those in accepted hops, and one for each refused hop (whose contents are
    /// not to be trusted).
    public var received = 0
    /// Hops (messages) received, accepted or not: a bundle is one hop of many jobs.
    public var hopsReceived = 0
    /// Jobs computed and sent on (in a bundle, or as a result).
    public var processed = 0
    public var failed = 0
    /// Refused hops by the check that failed (sender, open, replay, deadline, …).
    public var rejected: [String: Int] = [:]
    public var opens = 0
    public var seals = 0
    public var batchSizes = BucketHistogram.sizes()
    public var openSeconds = BucketHistogram.durations()
    public var sealSeconds = BucketHistogram.durations()
    public var computeSeconds = BucketHistogram.durations()
    /// Per job: from its hop entering the compute queue to the compute thread taking it.
    public var queueWaitSeconds = BucketHistogram.durations()
    /// Per job: from its hop being taken off the socket to its output handed back for sending
    /// (open, queue wait, compute and seal); what the stage adds to the job's latency.
    public var residenceSeconds = BucketHistogram.durations()
    public var queueDepth = 0
    public var capacity = 0
    /// Attestations that released keys to this replica (at start, then one per key epoch).
    public var attestations = 0
    /// How long the latest one took, from asking for a nonce to holding the keys.
    public var lastAttestationSeconds = 0.0

    public init() {}

    /// The Prometheus exposition of these counters, labelled with the role and replica.
    public func exposition(role: String, replica: Int, into exposition: inout PrometheusExposition) {
        let labels = ["role": role, "replica": String(replica)]
        exposition.counter(
            "sealpipe_stage_received_total", "Jobs received by the stage (a refused hop counts as one).",
            Double(received), labels: labels)
        exposition.counter(
            "sealpipe_stage_hops_received_total", "Hops (messages) received; a bundle carries many jobs.",
            Double(hopsReceived), labels: labels)
        exposition.counter(
            "sealpipe_stage_processed_total", "Jobs computed and sent on.", Double(processed), labels: labels)
        exposition.counter(
            "sealpipe_stage_failed_total", "Inputs the workload could not process.", Double(failed), labels: labels)
        for (check, count) in rejected.sorted(by: { $0.key < $1.key }) {
            exposition.counter(
                "sealpipe_stage_rejected_total", "Hops refused, by the check that failed.", Double(count),
                labels: labels.merging(["check": check]) { $1 })
        }
        exposition.counter("sealpipe_stage_opens_total", "Sealed boxes opened.", Double(opens), labels: labels)
        exposition.counter("sealpipe_stage_seals_total", "Sealed boxes made.", Double(seals), labels: labels)
        exposition.gauge(
            "sealpipe_stage_queue_depth", "Jobs waiting for the compute thread.", Double(queueDepth), labels: labels)
        exposition.gauge(
            "sealpipe_stage_capacity", "Jobs the replica holds at once (announced to the gateway).", Double(capacity),
            labels: labels)
        exposition.histogram("sealpipe_stage_batch_size", "Inputs per computed batch.", batchSizes, labels: labels)
        exposition.histogram(
            "sealpipe_stage_open_seconds", "Time to check and open one hop (a request or a bundle).", openSeconds,
            labels: labels)
        exposition.histogram(
            "sealpipe_stage_seal_seconds", "Time to seal and sign one output (a bundle or a result).", sealSeconds,
            labels: labels)
        exposition.histogram(
            "sealpipe_stage_compute_seconds", "Time to compute one batch.", computeSeconds, labels: labels)
        exposition.histogram(
            "sealpipe_stage_queue_wait_seconds", "Per job: time its hop waited for the compute thread.",
            queueWaitSeconds, labels: labels)
        exposition.histogram(
            "sealpipe_stage_job_seconds",
            "Per job: time in the stage, from its hop taken off the socket to its output handed back for sending.",
            residenceSeconds, labels: labels)
        exposition.counter(
            "sealpipe_stage_attestations_total", "Attestations that released keys (at start, then one per key epoch).",
            Double(attestations), labels: labels)
        exposition.gauge(
            "sealpipe_stage_attestation_seconds",
            "Time the latest attestation took, from asking for a nonce to holding the keys.",
            lastAttestationSeconds, labels: labels)
    }
}

extension StageCounters {
    /// The summary `sealpipe status` prints for a stage replica, as JSON.
    public func statusJSON(role: String, replica: Int, epochs: [UInt32]) -> String {
        struct Status: Encodable {
            let role: String
            let replica: Int
            let received: Int
            let processed: Int
            let failed: Int
            let rejected: [String: Int]
            let queueDepth: Int
            let capacity: Int
            let batches: UInt64
            let meanBatch: Double
            let epochs: [UInt32]
        }
        let status = Status(
            role: role, replica: replica, received: received, processed: processed, failed: failed, rejected: rejected,
            queueDepth: queueDepth, capacity: capacity, batches: batchSizes.count,
            meanBatch: batchSizes.count == 0 ? 0 : batchSizes.sum / Double(batchSizes.count), epochs: epochs)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(status), as: UTF8.self)) ?? "{}"
    }
}
