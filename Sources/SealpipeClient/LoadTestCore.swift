import Histogram
import Wire

/// The bookkeeping of one load test as a value: when jobs are due, which are in flight, what
/// each answer counts as, when a job has timed out, and what to resend after a key rotation.
/// Time is passed in; the driver (`LoadTester`) does the sending and receiving. So the arrival
/// schedule, coordinated-omission correction, timeouts and resends are tested without sockets.
struct LoadTestCore {
    /// One job the driver should send now.
    struct Send: Equatable {
        /// Index into the plan's bodies.
        var body: Int
        /// When it was due: latency counts from here (coordinated-omission correction).
        var due: ContinuousClock.Instant
        /// Whether it falls in the measured part of the run (after the warm-up).
        var measured: Bool
        /// A resend after a key rotation (each job is resent at most once).
        var resend: Bool
    }

    /// What to do about an `unknown_epoch` answer (see `RotationResend`): refresh the target
    /// first (at most once a second) and send the job again.
    struct Resend: Equatable {
        var send: Send
        var refreshFirst: Bool
    }

    let plan: LoadTestPlan
    let start: ContinuousClock.Instant
    let measuredFrom: ContinuousClock.Instant
    private(set) var tally: LoadTestTally
    private var pending: [JobID: (send: Send, sentAt: ContinuousClock.Instant)] = [:]
    private var nextDue: ContinuousClock.Instant
    private var interval: Duration
    private var nextBody: Int
    private var rotation = RotationResend()

    /// - Parameters:
    ///   - firstDue: when the first job of an open loop is due (workers stagger theirs).
    ///   - firstBody: the first body index (workers start at different bodies).
    init(
        plan: LoadTestPlan, start: ContinuousClock.Instant, firstDue: ContinuousClock.Instant? = nil, firstBody: Int = 0
    ) {
        self.plan = plan
        self.start = start
        measuredFrom = start + plan.warmUp
        tally = LoadTestTally(measuredFrom: measuredFrom)
        nextDue = firstDue ?? start
        nextBody = firstBody
        if case .openLoop(let rate) = plan.mode {
            interval = .nanoseconds(Int64(1e9 / max(rate, 0.001)))
        } else {
            interval = .zero
        }
    }

    var inFlight: Int { pending.count }

    /// The jobs in flight, as the driver's client needs them to match answers.
    var pendingIDs: Dictionary<JobID, (send: Send, sentAt: ContinuousClock.Instant)>.Keys { pending.keys }

    /// Whether the plan's duration or request count is used up.
    func stoppedSending(at now: ContinuousClock.Instant) -> Bool {
        if let requests = plan.requests, tally.measuredSent >= requests { return true }
        if let duration = plan.duration, now >= measuredFrom + duration { return true }
        return false
    }

    /// Done: nothing more to send and nothing in flight.
    func isFinished(at now: ContinuousClock.Instant) -> Bool {
        stoppedSending(at: now) && pending.isEmpty
    }

    /// The next job to send at `now`, if one is due (call until `nil`, recording each with `sent`).
    mutating func nextSend(at now: ContinuousClock.Instant) -> Send? {
        guard !stoppedSending(at: now) else { return nil }
        let due: ContinuousClock.Instant
        switch plan.mode {
        case .openLoop:
            guard nextDue <= now else { return nil }
            due = nextDue
            nextDue += interval
        case .closedLoop(let concurrency):
            guard pending.count < concurrency else { return nil }
            due = now
        }
        let body = nextBody % plan.bodies.count
        nextBody += 1
        let send = Send(body: body, due: due, measured: due >= measuredFrom, resend: false)
        // Counted when due, so a request count stops the schedule even before the send returns.
        if send.measured { tally.measuredSent += 1 }
        return send
    }

    /// How long the driver may wait for answers before something is due.
    func waitBudget(at now: ContinuousClock.Instant) -> Duration {
        guard !stoppedSending(at: now), interval > .zero else { return .milliseconds(50) }
        return max(.microseconds(50), min(.milliseconds(50), now.duration(to: nextDue)))
    }

    /// Records that `send` went out as job `id` at `sentAt`.
    mutating func sent(_ send: Send, as id: JobID, at sentAt: ContinuousClock.Instant) {
        pending[id] = (send, sentAt)
        tally.totalSent += 1
        if send.resend { tally.resent += 1 }
    }

    /// Counts an answer; returns a resend instead when it is `unknown_epoch`, the job was not
    /// resent before, and the caller can refresh its target.
    mutating func answered(
        _ id: JobID, _ answer: Result<[UInt8], ClientError>, at now: ContinuousClock.Instant, canResend: Bool
    ) -> Resend? {
        guard let entry = pending[id] else { return nil }
        if canResend, RotationResend.callsForResend(answer, alreadyResent: entry.send.resend) {
            pending[id] = nil
            let refresh = rotation.refreshFirst(at: now)
            var again = entry.send
            again.resend = true
            return Resend(send: again, refreshFirst: refresh)
        }
        pending[id] = nil
        tally.count(answer, of: entry.send, at: now)
        return nil
    }

    /// Counts a job that could not be resent (no fresh manifest) as the error it got.
    mutating func abandon(_ send: Send, answer: Result<[UInt8], ClientError>, at now: ContinuousClock.Instant) {
        tally.count(answer, of: send, at: now)
    }

    /// A manifest refresh that worked.
    mutating func refreshed() {
        tally.manifestRefreshes += 1
    }

    /// Ends, as timeouts, jobs unanswered past their deadline plus a grace for the error to
    /// arrive; returns their ids so the driver forgets them too.
    mutating func expire(at now: ContinuousClock.Instant) -> [JobID] {
        let late = pending.filter { now - $0.value.sentAt > plan.jobTimeout + .seconds(2) }
        for (id, entry) in late {
            pending[id] = nil
            tally.count(.failure(.timedOut), of: entry.send, at: now)
        }
        return Array(late.keys)
    }
}

/// The mergeable figures of a load test (one worker's, or all of them added up).
struct LoadTestTally {
    static let highestTrackableMicroseconds: UInt64 = 3_600_000_000

    let measuredFrom: ContinuousClock.Instant
    var histogram = Histogram<UInt64>(
        highestTrackableValue: highestTrackableMicroseconds, numberOfSignificantValueDigits: .three)
    var perSecond: [Int: Histogram<UInt64>] = [:]
    var errorsByCode: [String: Int] = [:]
    var totalSent = 0
    var measuredSent = 0
    var results = 0
    var errors = 0
    var manifestRefreshes = 0
    var resent = 0
    var lastCompletion: ContinuousClock.Instant

    init(measuredFrom: ContinuousClock.Instant) {
        self.measuredFrom = measuredFrom
        lastCompletion = measuredFrom
    }

    mutating func count(
        _ answer: Result<[UInt8], ClientError>, of send: LoadTestCore.Send, at now: ContinuousClock.Instant
    ) {
        guard send.measured else { return }
        lastCompletion = max(lastCompletion, now)
        switch answer {
        case .success:
            results += 1
            let micros = UInt64(max(0, (now - send.due).wholeMicroseconds))
            _ = histogram.record(min(micros, Self.highestTrackableMicroseconds))
            let second = Int((now - measuredFrom).wholeMicroseconds / 1_000_000)
            _ = perSecond[
                second,
                default: Histogram<UInt64>(
                    highestTrackableValue: Self.highestTrackableMicroseconds, numberOfSignificantValueDigits: .two)
            ].record(min(micros, Self.highestTrackableMicroseconds))
        case .failure(let error):
            errors += 1
            errorsByCode[LoadTester.name(of: error), default: 0] += 1
        }
    }

    /// Adds another worker's figures (same measured start).
    mutating func merge(_ other: LoadTestTally) {
        histogram.add(other.histogram)
        for (second, part) in other.perSecond {
            if perSecond[second] == nil { perSecond[second] = part } else { perSecond[second]!.add(part) }
        }
        errorsByCode.merge(other.errorsByCode, uniquingKeysWith: +)
        totalSent += other.totalSent
        measuredSent += other.measuredSent
        results += other.results
        errors += other.errors
        manifestRefreshes += other.manifestRefreshes
        resent += other.resent
        lastCompletion = max(lastCompletion, other.lastCompletion)
    }

    func milliseconds(atPercentile percentile: Double) -> Double {
        histogram.totalCount == 0 ? 0 : Double(histogram.valueAtPercentile(percentile)) / 1000
    }
}
