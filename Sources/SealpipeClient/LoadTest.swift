import Foundation
import Histogram
import Observability
import Wire
import TimeUnits

/// What a load test does: the arrival model, how long, and what it sends.
public struct LoadTestPlan: Sendable {
    public enum Mode: Sendable, Codable, Hashable {
        /// Jobs are due at a fixed rate whatever the pipeline does; latency counts from each
        /// job's due time (coordinated-omission correction, as wrk2 does).
        case openLoop(ratePerSecond: Double)
        /// A fixed number of jobs in flight; each answer releases the next job.
        case closedLoop(concurrency: Int)
    }

    public var mode: Mode
    public var warmUp: Duration
    /// Stop sending after this long (after the warm-up)…
    public var duration: Duration?
    /// …or after this many measured jobs.
    public var requests: Int?
    /// Bodies sent round-robin.
    public var bodies: [[UInt8]]
    /// The deadline each job carries; unanswered jobs count as `timeout` errors after it.
    public var jobTimeout: Duration

    public init(mode: Mode, warmUp: Duration, duration: Duration?, requests: Int?, bodies: [[UInt8]], jobTimeout: Duration) {
        precondition(duration != nil || requests != nil, "a load test needs a duration or a request count")
        precondition(!bodies.isEmpty, "a load test needs at least one body")
        self.mode = mode
        self.warmUp = warmUp
        self.duration = duration
        self.requests = requests
        self.bodies = bodies
        self.jobTimeout = jobTimeout
    }
}

/// The figures of one load test, under plain names (`throughput_per_s`, `p99_ms`, …).
public struct LoadTestResult: Sendable, Codable {
    public var mode: String
    public var targetRatePerSecond: Double?
    public var concurrency: Int?
    /// Jobs sent after the warm-up (the ones measured).
    public var requests: Int
    public var results: Int
    public var errors: Int
    public var errorsByCode: [String: Int]
    public var durationSeconds: Double
    public var throughputPerSecond: Double
    public var p50Milliseconds: Double
    public var p90Milliseconds: Double
    public var p99Milliseconds: Double
    public var p999Milliseconds: Double
    public var maxMilliseconds: Double
    public var meanMilliseconds: Double
    /// All jobs sent, warm-up included (what the gateway counted).
    public var totalSent: Int
    /// CPU time this load generator spent (sealing, opening, verifying, sending), warm-up
    /// included: divided by `totalSent`, the client's own cost per job.
    public var clientCPUSeconds: Double
    /// Times the manifest was fetched again because the pipeline had moved to a new key epoch.
    public var manifestRefreshes: Int
    /// Jobs sent again after such a refresh: each counts once in `requests` and `results`, and
    /// twice in `total_sent` (as the gateway counts them; its first try is an `unknown_epoch` error there).
    public var resent: Int
    /// One point per second of the measured run.
    public var timeline: [TimelinePoint]
    /// Latency at each of a fixed set of percentiles, for the percentile chart.
    public var percentiles: [PercentilePoint]

    public struct TimelinePoint: Sendable, Codable {
        public var second: Int
        public var completed: Int
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
    }

    public struct PercentilePoint: Sendable, Codable {
        public var percentile: Double
        public var milliseconds: Double
    }

    enum CodingKeys: String, CodingKey {
        case mode, concurrency, requests, results, errors, timeline, percentiles
        case targetRatePerSecond = "target_rate_per_s"
        case errorsByCode = "errors_by_code"
        case durationSeconds = "duration_s"
        case throughputPerSecond = "throughput_per_s"
        case p50Milliseconds = "p50_ms"
        case p90Milliseconds = "p90_ms"
        case p99Milliseconds = "p99_ms"
        case p999Milliseconds = "p99_9_ms"
        case maxMilliseconds = "max_ms"
        case meanMilliseconds = "mean_ms"
        case totalSent = "total_sent"
        case clientCPUSeconds = "client_cpu_seconds"
        case manifestRefreshes = "manifest_refreshes"
        case resent
    }
}

/// Drives a running pipeline with sealed jobs and measures latency in an HDR histogram.
/// Single-threaded (it owns the client's socket); sealing and opening run inline, as a real
/// client's would.
public final class LoadTester {
    public struct Progress: Sendable {
        public var elapsed: Duration
        public var sent: Int
        public var completed: Int
        public var errors: Int
        public var p99Milliseconds: Double
    }

    private let client: PipelineClient
    private let refreshTarget: (() throws -> PipelineTarget)?

    /// `refreshTarget` fetches and verifies a fresh manifest; with it, a job refused for an
    /// unknown key epoch (the pipeline rotated its keys mid-run) is sealed again to the new
    /// epoch and resent once, as a real client would, instead of counting as an error.
    public init(target: PipelineTarget, refreshTarget: (() throws -> PipelineTarget)? = nil) throws {
        client = try PipelineClient(target: target)
        self.refreshTarget = refreshTarget
    }

    public func run(_ plan: LoadTestPlan, progress: (Progress) -> Void = { _ in }) throws -> LoadTestResult {
        let clock = ContinuousClock()
        let start = clock.now
        let cpuAtStart = ProcessMetrics.cpuSeconds()
        let measuredFrom = start + plan.warmUp
        var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var perSecond: [Int: Histogram<UInt64>] = [:]
        var pending: [JobID: (job: PipelineClient.PendingJob, due: ContinuousClock.Instant, measured: Bool, body: Int, resent: Bool)] = [:]
        // The same jobs as the client reads them, kept alongside rather than rebuilt per answer.
        var pendingJobs: [JobID: PipelineClient.PendingJob] = [:]
        var errorsByCode: [String: Int] = [:]
        var sentTotal = 0
        var measuredSent = 0
        var results = 0
        var errors = 0
        var next = 0
        var lastProgress = start
        var lastCompletion = measuredFrom

        func shouldStopSending(_ now: ContinuousClock.Instant) -> Bool {
            if let requests = plan.requests, measuredSent >= requests { return true }
            if let duration = plan.duration, now >= measuredFrom + duration { return true }
            return false
        }

        func send(due: ContinuousClock.Instant) throws {
            let body = next % plan.bodies.count
            next += 1
            let job = try client.send(plan.bodies[body], timeout: plan.jobTimeout)
            let measured = due >= measuredFrom
            pending[job.id] = (job, due, measured, body, false)
            pendingJobs[job.id] = job
            sentTotal += 1
            if measured { measuredSent += 1 }
        }

        /// After a key rotation: fetch the manifest again (at most once a second) and resend the
        /// job under the new epoch, keeping its due time so the delay counts in its latency.
        var lastRefresh: ContinuousClock.Instant?
        var manifestRefreshes = 0
        var resent = 0
        func resendAfterRotation(_ id: JobID, _ answer: Result<[UInt8], ClientError>) throws -> Bool {
            guard let refreshTarget, case .failure(let error) = answer, error.code == .unknownEpoch,
                let entry = pending[id], !entry.resent
            else { return false }
            if lastRefresh.map({ clock.now - $0 >= .seconds(1) }) ?? true {
                lastRefresh = clock.now
                // No fresh manifest (the broker unreachable, or it failed verification): the
                // job counts as the error it got, and the run goes on.
                guard let fresh = try? refreshTarget() else { return false }
                try client.retarget(fresh)
                manifestRefreshes += 1
            }
            pending[id] = nil
            pendingJobs[id] = nil
            let job = try client.send(plan.bodies[entry.body], timeout: plan.jobTimeout)
            pending[job.id] = (job, entry.due, entry.measured, entry.body, true)
            pendingJobs[job.id] = job
            resent += 1
            sentTotal += 1
            return true
        }

        func complete(_ id: JobID, _ answer: Result<[UInt8], ClientError>, at now: ContinuousClock.Instant) {
            pendingJobs[id] = nil
            guard let entry = pending.removeValue(forKey: id), entry.measured else { return }
            lastCompletion = now
            let micros = UInt64(max(0, (now - entry.due).wholeMicroseconds))
            switch answer {
            case .success:
                results += 1
                _ = histogram.record(micros)
                let second = Int((now - measuredFrom).wholeMicroseconds / 1_000_000)
                _ = perSecond[second, default: Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .two)]
                    .record(micros)
            case .failure(let error):
                errors += 1
                errorsByCode[Self.name(of: error), default: 0] += 1
            }
        }

        // Arrivals: an open loop sends on a schedule; a closed loop fills its window.
        var nextDue = start
        let interval: Duration
        if case .openLoop(let rate) = plan.mode {
            interval = .nanoseconds(Int64(1e9 / max(rate, 0.001)))
        } else {
            interval = .zero
        }
        while true {
            let now = clock.now
            var sending = !shouldStopSending(now)
            switch plan.mode {
            case .openLoop:
                while sending, nextDue <= now {
                    try send(due: nextDue)
                    nextDue += interval
                    sending = !shouldStopSending(clock.now)
                }
            case .closedLoop(let concurrency):
                while sending, pending.count < concurrency {
                    try send(due: clock.now)
                    sending = !shouldStopSending(clock.now)
                }
            }
            if !sending && pending.isEmpty { break }
            // Wait for answers until the next job is due (or briefly, to notice the end).
            let wait: Duration = sending && interval > .zero ? max(.microseconds(50), clock.now.duration(to: nextDue)) : .milliseconds(50)
            if let (id, answer) = try client.receive(pending: pendingJobs, timeout: wait) {
                if try !resendAfterRotation(id, answer) { complete(id, answer, at: clock.now) }
                while let (id, answer) = try client.receive(pending: pendingJobs, timeout: .zero) {
                    if try !resendAfterRotation(id, answer) { complete(id, answer, at: clock.now) }
                }
            }
            // Jobs past their deadline (plus a grace for the error to arrive) count as timeouts.
            let late = clock.now
            for (id, entry) in pending where late - entry.job.sentAt > plan.jobTimeout + .seconds(2) {
                complete(id, .failure(.timedOut), at: late)
                pending[id] = nil
                pendingJobs[id] = nil
            }
            if late - lastProgress >= .seconds(1) {
                lastProgress = late
                progress(
                    Progress(
                        elapsed: late - start, sent: sentTotal, completed: results, errors: errors,
                        p99Milliseconds: Double(histogram.totalCount == 0 ? 0 : histogram.valueAtPercentile(99)) / 1000))
            }
        }

        let measuredSeconds = max(0.001, Double((lastCompletion - measuredFrom).wholeMicroseconds) / 1e6)
        func ms(_ percentile: Double) -> Double {
            histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
        }
        var rate: Double?
        var concurrency: Int?
        let modeName: String
        switch plan.mode {
        case .openLoop(let target):
            rate = target
            modeName = "open-loop"
        case .closedLoop(let window):
            concurrency = window
            modeName = "closed-loop"
        }
        return LoadTestResult(
            mode: modeName, targetRatePerSecond: rate, concurrency: concurrency, requests: measuredSent, results: results,
            errors: errors, errorsByCode: errorsByCode, durationSeconds: measuredSeconds,
            throughputPerSecond: Double(results) / measuredSeconds, p50Milliseconds: ms(50), p90Milliseconds: ms(90),
            p99Milliseconds: ms(99), p999Milliseconds: ms(99.9),
            maxMilliseconds: histogram.totalCount == 0 ? 0 : Double(histogram.max) / 1000,
            meanMilliseconds: histogram.totalCount == 0 ? 0 : histogram.mean / 1000, totalSent: sentTotal,
            clientCPUSeconds: ProcessMetrics.cpuSeconds() - cpuAtStart, manifestRefreshes: manifestRefreshes, resent: resent,
            timeline: perSecond.keys.sorted().map { second in
                let h = perSecond[second]!
                return .init(
                    second: second, completed: Int(h.totalCount), p50Milliseconds: Double(h.valueAtPercentile(50)) / 1000,
                    p99Milliseconds: Double(h.valueAtPercentile(99)) / 1000)
            },
            percentiles: [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100].map {
                .init(percentile: $0, milliseconds: ms($0))
            })
    }

    static func name(of error: ClientError) -> String {
        switch error {
        case .pipeline(let code, _): ErrorCode(rawValue: code)?.name ?? "code_\(code)"
        case .timedOut: "timeout"
        case .badResultSignature: "bad_result_signature"
        case .couldNotOpen: "could_not_open_result"
        case .malformedAnswer: "malformed_answer"
        }
    }
}
