import Foundation
import Histogram
import Observability
import Synchronization
import TimeUnits
import Wire

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
    /// Whether every job asks for receipts (their cost, side by side with a run without); a job
    /// whose result lacks them, or whose chain does not decode, counts as an error.
    public var receipts: Bool

    public init(
        mode: Mode, warmUp: Duration, duration: Duration?, requests: Int?, bodies: [[UInt8]], jobTimeout: Duration,
        receipts: Bool = false
    ) {
        self.receipts = receipts
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

extension LoadTestPlan {
    /// Worker `index`'s part of this plan when `workers` threads share it: the rate, the
    /// concurrency and the request count divided as evenly as whole numbers allow (earlier
    /// workers take the remainder); the duration, warm-up and bodies unchanged.
    public func share(worker index: Int, of workers: Int) -> LoadTestPlan {
        precondition(workers >= 1 && (0..<workers).contains(index))
        func part(_ total: Int) -> Int { total / workers + (index < total % workers ? 1 : 0) }
        var share = self
        switch mode {
        case .openLoop(let rate): share.mode = .openLoop(ratePerSecond: rate / Double(workers))
        case .closedLoop(let concurrency): share.mode = .closedLoop(concurrency: max(1, part(concurrency)))
        }
        share.requests = requests.map { max(0, part($0)) }
        return share
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

    /// Load-generating threads whose figures were merged into this one report.
    public var workers: Int

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
        case resent, workers
    }

    init(plan: LoadTestPlan, workers: Int, tally: LoadTestTally, clientCPUSeconds: Double) {
        switch plan.mode {
        case .openLoop(let target):
            mode = "open-loop"
            targetRatePerSecond = target
            concurrency = nil
        case .closedLoop(let window):
            mode = "closed-loop"
            targetRatePerSecond = nil
            concurrency = window
        }
        let measuredSeconds = max(0.001, Double((tally.lastCompletion - tally.measuredFrom).wholeMicroseconds) / 1e6)
        requests = tally.measuredSent
        results = tally.results
        errors = tally.errors
        errorsByCode = tally.errorsByCode
        durationSeconds = measuredSeconds
        throughputPerSecond = Double(tally.results) / measuredSeconds
        p50Milliseconds = tally.milliseconds(atPercentile: 50)
        p90Milliseconds = tally.milliseconds(atPercentile: 90)
        p99Milliseconds = tally.milliseconds(atPercentile: 99)
        p999Milliseconds = tally.milliseconds(atPercentile: 99.9)
        maxMilliseconds = tally.histogram.totalCount == 0 ? 0 : Double(tally.histogram.max) / 1000
        meanMilliseconds = tally.histogram.totalCount == 0 ? 0 : tally.histogram.mean / 1000
        totalSent = tally.totalSent
        self.clientCPUSeconds = clientCPUSeconds
        manifestRefreshes = tally.manifestRefreshes
        resent = tally.resent
        timeline = tally.perSecond.keys.sorted().map { second in
            let h = tally.perSecond[second]!
            return .init(
                second: second, completed: Int(h.totalCount), p50Milliseconds: Double(h.valueAtPercentile(50)) / 1000,
                p99Milliseconds: Double(h.valueAtPercentile(99)) / 1000)
        }
        percentiles = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100].map {
            .init(percentile: $0, milliseconds: tally.milliseconds(atPercentile: $0))
        }
        self.workers = workers
    }
}

/// Drives a running pipeline with sealed jobs and measures latency in HDR histograms: the I/O
/// around `LoadTestCore`. With several workers, each runs on a thread of its own with its own
/// client socket and a share of the plan (`LoadTestPlan.share`), and their figures are merged
/// into one report, so one command can load a pipeline past what one core can seal and open.
public final class LoadTester: Sendable {
    public struct Progress: Sendable {
        public var elapsed: Duration
        public var sent: Int
        public var completed: Int
        public var errors: Int
        public var p99Milliseconds: Double
    }

    private let target: PipelineTarget
    private let refreshTarget: (@Sendable () throws -> PipelineTarget)?

    /// `refreshTarget` fetches and verifies a fresh manifest; with it, a job refused for an
    /// unknown key epoch (the pipeline rotated its keys mid-run) is sealed again to the new
    /// epoch and resent once, as a real client would, instead of counting as an error.
    public init(target: PipelineTarget, refreshTarget: (@Sendable () throws -> PipelineTarget)? = nil) {
        self.target = target
        self.refreshTarget = refreshTarget
    }

    /// Runs `plan` on `workers` threads (each its own socket and share of the plan) and merges
    /// their figures; `progress` is called about once a second with the sum.
    public func run(_ plan: LoadTestPlan, workers: Int = 1, progress: @escaping @Sendable (Progress) -> Void = { _ in })
        throws
        -> LoadTestResult
    {
        let cpuAtStart = ProcessMetrics.cpuSeconds()
        let merged = try runTally(plan, workers: workers, progress: progress)
        return LoadTestResult(
            plan: plan, workers: max(1, workers), tally: merged,
            clientCPUSeconds: ProcessMetrics.cpuSeconds() - cpuAtStart)
    }

    /// `run`'s merged figures before they become a report (what a load agent sends back).
    func runTally(_ plan: LoadTestPlan, workers: Int, progress: @escaping @Sendable (Progress) -> Void = { _ in })
        throws -> LoadTestTally
    {
        let workers = max(1, workers)
        let start = ContinuousClock.now
        let shares = (0..<workers).map { plan.share(worker: $0, of: workers) }
        let snapshots = Mutex([Progress?](repeating: nil, count: workers))
        let outcomes = Mutex([Result<LoadTestTally, any Error>?](repeating: nil, count: workers))
        let group = DispatchGroup()
        for (index, share) in shares.enumerated() {
            group.enter()
            let thread = Thread { [self] in
                defer { group.leave() }
                let outcome = Result {
                    try runWorker(share, start: start, index: index, of: workers) { snapshot in
                        let total = snapshots.withLock { all -> Progress? in
                            all[index] = snapshot
                            guard index == 0 else { return nil }
                            return all.compactMap { $0 }.reduce(
                                into: Progress(
                                    elapsed: snapshot.elapsed, sent: 0, completed: 0, errors: 0, p99Milliseconds: 0)
                            ) {
                                $0.sent += $1.sent
                                $0.completed += $1.completed
                                $0.errors += $1.errors
                                $0.p99Milliseconds = max($0.p99Milliseconds, $1.p99Milliseconds)
                            }
                        }
                        if let total { progress(total) }
                    }
                }
                outcomes.withLock { $0[index] = outcome }
            }
            thread.name = "sealpipe-loadtest-\(index)"
            thread.start()
        }
        group.wait()
        var merged: LoadTestTally?
        for outcome in outcomes.withLock({ $0 }) {
            guard let outcome else { continue }
            let tally = try outcome.get()
            if merged == nil { merged = tally } else { merged!.merge(tally) }
        }
        guard let merged else { preconditionFailure("every worker ends with a tally or an error") }
        return merged
    }

    /// One worker: its own client, its share of the plan, until the share is done.
    private func runWorker(
        _ plan: LoadTestPlan, start: ContinuousClock.Instant, index: Int, of workers: Int, progress: (Progress) -> Void
    ) throws -> LoadTestTally {
        let client = try PipelineClient(target: target)
        let clock = ContinuousClock()
        // Open-loop workers stagger their first job so the merged arrivals stay evenly spaced.
        var firstDue = start
        if case .openLoop(let rate) = plan.mode {
            firstDue = start + .nanoseconds(Int64(1e9 / max(rate, 0.001) * Double(index) / Double(workers)))
        }
        var core = LoadTestCore(plan: plan, start: start, firstDue: firstDue, firstBody: index)
        var jobs: [JobID: PipelineClient.PendingJob] = [:]
        var lastProgress = start

        func send(_ send: LoadTestCore.Send) throws {
            let job = try client.send(plan.bodies[send.body], timeout: plan.jobTimeout, receipts: plan.receipts)
            jobs[job.id] = job
            core.sent(send, as: job.id, at: job.sentAt)
        }
        func handle(_ id: JobID, _ answer: Result<[UInt8], ClientError>) throws {
            jobs[id] = nil
            guard let resend = core.answered(id, answer, at: clock.now, canResend: refreshTarget != nil) else { return }
            if resend.refreshFirst {
                // No fresh manifest (the broker unreachable, or it failed verification): the job
                // counts as the error it got, and the run goes on.
                guard let fresh = try? refreshTarget?() else {
                    core.abandon(resend.send, answer: answer, at: clock.now)
                    return
                }
                try client.retarget(fresh)
                core.refreshed()
            }
            try send(resend.send)
        }

        while !core.isFinished(at: clock.now) {
            while let due = core.nextSend(at: clock.now) { try send(due) }
            if let (id, answer) = try client.receive(pending: jobs, timeout: core.waitBudget(at: clock.now)) {
                try handle(id, answer.map(\.body))
                while let (id, answer) = try client.receive(pending: jobs, timeout: .zero) {
                    try handle(id, answer.map(\.body))
                }
            }
            for id in core.expire(at: clock.now) { jobs[id] = nil }
            let now = clock.now
            if now - lastProgress >= .seconds(1) {
                lastProgress = now
                progress(
                    Progress(
                        elapsed: now - start, sent: core.tally.totalSent, completed: core.tally.results,
                        errors: core.tally.errors,
                        p99Milliseconds: core.tally.milliseconds(atPercentile: 99)))
            }
        }
        return core.tally
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
