import Foundation
public import Observability

/// Where a job's time goes between submit and answer, hop by hop: built from each stage's
/// histograms scraped before and after a load run (their deltas are that run's jobs) and the
/// client's own end-to-end figures. Per stage: how long a job's hop waited for the compute
/// thread, how long opening a hop, computing a batch and sealing an output took, and the job's
/// whole time in the stage. What the stages do not account for — ZeroMQ transport, the
/// gateway's routing, the client's own seal and open — is the end-to-end mean minus the sum of
/// the stages' means.
///
/// Means add up; percentiles do not, so the "rest" is taken from means only. Histogram
/// percentiles are interpolated within the stage histograms' power-of-two buckets (coarse).
public struct LatencyTrace: Sendable, Encodable {
    /// One stage role (all its replicas together).
    public struct Stage: Sendable, Encodable {
        public var role: String
        /// Jobs the stage finished during the run.
        public var jobs: Double
        public var queueWaitMeanMilliseconds: Double
        public var queueWaitP50Milliseconds: Double
        /// Per hop (one request, or one bundle of many jobs).
        public var openMeanMilliseconds: Double
        /// Per batch.
        public var computeMeanMilliseconds: Double
        public var meanBatch: Double
        /// Per output (one bundle, or one result).
        public var sealMeanMilliseconds: Double
        /// Per job: from its hop taken off the socket to its output handed back for sending.
        public var inStageMeanMilliseconds: Double
        public var inStageP50Milliseconds: Double
    }

    public var stages: [Stage]
    public var endToEndMeanMilliseconds: Double
    public var endToEndP50Milliseconds: Double
    /// Sum of the stages' mean time per job.
    public var stagesMeanMilliseconds: Double
    /// End-to-end mean minus the stages' sum: transport, the gateway, and the client's own work.
    public var restMeanMilliseconds: Double

    /// The stage histograms this trace reads.
    static let queueWait = "sealpipe_stage_queue_wait_seconds"
    static let inStage = "sealpipe_stage_job_seconds"

    /// - Parameters:
    ///   - roles: the stage roles in pipeline order.
    ///   - before, after: every scraped stage endpoint's samples, before and after the run
    ///     (replicas are summed by their `role` label).
    public init(
        roles: [String], before: [PrometheusSamples], after: [PrometheusSamples], endToEndMeanMilliseconds: Double,
        endToEndP50Milliseconds: Double
    ) {
        func delta(_ name: String, _ role: String) -> HistogramSample {
            let matching = ["role": role]
            let earlier = before.compactMap { $0.histogram(name, matching: matching) }
            let later = after.compactMap { $0.histogram(name, matching: matching) }
            return Self.total(later).since(earlier.isEmpty ? nil : Self.total(earlier))
        }
        stages = roles.map { role in
            let wait = delta(Self.queueWait, role)
            let inStage = delta(Self.inStage, role)
            let batches = delta("sealpipe_stage_batch_size", role)
            return Stage(
                role: role, jobs: inStage.count, queueWaitMeanMilliseconds: wait.mean * 1000,
                queueWaitP50Milliseconds: wait.quantile(0.5) * 1000,
                openMeanMilliseconds: delta("sealpipe_stage_open_seconds", role).mean * 1000,
                computeMeanMilliseconds: delta("sealpipe_stage_compute_seconds", role).mean * 1000,
                meanBatch: batches.mean, sealMeanMilliseconds: delta("sealpipe_stage_seal_seconds", role).mean * 1000,
                inStageMeanMilliseconds: inStage.mean * 1000, inStageP50Milliseconds: inStage.quantile(0.5) * 1000)
        }
        self.endToEndMeanMilliseconds = endToEndMeanMilliseconds
        self.endToEndP50Milliseconds = endToEndP50Milliseconds
        stagesMeanMilliseconds = stages.reduce(0) { $0 + $1.inStageMeanMilliseconds }
        restMeanMilliseconds = endToEndMeanMilliseconds - stagesMeanMilliseconds
    }

    /// Histograms of several replicas added bucket by bucket.
    static func total(_ parts: [HistogramSample]) -> HistogramSample {
        guard var sum = parts.first else { return HistogramSample(cumulative: [], sum: 0, count: 0) }
        for part in parts.dropFirst() {
            let counts = Dictionary(part.cumulative.map { ($0.bound, $0.count) }) { $1 }
            sum.cumulative = sum.cumulative.map { ($0.bound, $0.count + (counts[$0.bound] ?? 0)) }
            sum.sum += part.sum
            sum.count += part.count
        }
        return sum
    }

    /// The breakdown as a plain-text table (milliseconds).
    public var table: String {
        func ms(_ value: Double) -> String { value.formatted(decimals: value >= 10 ? 1 : 3) }
        var lines = [
            "per-hop trace (stage histograms over the run, warm-up included; ms; open per hop, compute per batch, "
                + "seal per output)",
            "stage                 jobs   wait mean  wait p50  open   compute  batch  seal   in stage mean  p50",
        ]
        for stage in stages {
            lines.append(
                [
                    stage.role.padded(20), String(Int(stage.jobs)).leftPadded(6),
                    ms(stage.queueWaitMeanMilliseconds).leftPadded(11),
                    ms(stage.queueWaitP50Milliseconds).leftPadded(9),
                    ms(stage.openMeanMilliseconds).leftPadded(6), ms(stage.computeMeanMilliseconds).leftPadded(8),
                    stage.meanBatch.formatted(decimals: 1).leftPadded(6), ms(stage.sealMeanMilliseconds).leftPadded(6),
                    ms(stage.inStageMeanMilliseconds).leftPadded(14), ms(stage.inStageP50Milliseconds).leftPadded(6),
                ].joined(separator: " "))
        }
        lines.append("stages together (mean per job): \(ms(stagesMeanMilliseconds)) ms")
        lines.append(
            "end to end (client): mean \(ms(endToEndMeanMilliseconds)) ms, p50 \(ms(endToEndP50Milliseconds)) ms")
        lines.append(
            "the rest (transport, gateway, client seal and open; mean): \(ms(restMeanMilliseconds)) ms")
        return lines.joined(separator: "\n")
    }
}

extension Double {
    fileprivate func formatted(decimals: Int) -> String { String(format: "%.\(decimals)f", self) }
}

extension String {
    fileprivate func padded(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }

    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
