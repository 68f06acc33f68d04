import Testing
import Wire

@testable import SealpipeClient

/// The load test's bookkeeping as a value, on a clock the test moves by hand.
@Suite("Load test core")
struct LoadTestCoreTests {
    let start = ContinuousClock.now
    let unknownEpoch = ClientError.pipeline(code: ErrorCode.unknownEpoch.rawValue, message: "stale")

    func plan(
        _ mode: LoadTestPlan.Mode, warmUp: Duration = .seconds(1), duration: Duration? = .seconds(2),
        requests: Int? = nil
    )
        -> LoadTestPlan
    {
        LoadTestPlan(
            mode: mode, warmUp: warmUp, duration: duration, requests: requests, bodies: [[1], [2], [3]],
            jobTimeout: .seconds(5))
    }

    /// Sends everything due at `now` and returns it, recording each under a fresh id.
    func drain(_ core: inout LoadTestCore, at now: ContinuousClock.Instant) -> [(JobID, LoadTestCore.Send)] {
        var sent: [(JobID, LoadTestCore.Send)] = []
        while let send = core.nextSend(at: now) {
            let id = JobID.random()
            core.sent(send, as: id, at: now)
            sent.append((id, send))
        }
        return sent
    }

    @Test func anOpenLoopSendsOnItsScheduleWhateverThePipelineDoes() {
        var core = LoadTestCore(plan: plan(.openLoop(ratePerSecond: 10)), start: start)
        // Nothing answered for 2.95 s: every job due by then is sent anyway, 10 a second.
        let sent = drain(&core, at: start + .milliseconds(2950))
        #expect(sent.count == 30, "due at 0, 0.1, …, 2.9 s")
        #expect(sent.map(\.1.due) == (0..<30).map { start + .milliseconds(100 * $0) })
        #expect(sent.filter(\.1.measured).count == 20, "the first second is warm-up")
        #expect(sent.map(\.1.body).prefix(4) == [0, 1, 2, 0], "bodies round-robin")
        #expect(core.tally.measuredSent == 20 && core.tally.totalSent == 30)
        // The run stops sending at warm-up + duration = 3 s, even for jobs due before.
        #expect(core.nextSend(at: start + .seconds(3)) == nil)
    }

    @Test func latencyCountsFromWhenAJobWasDueNotWhenItWentOut() {
        var core = LoadTestCore(plan: plan(.openLoop(ratePerSecond: 1), warmUp: .zero), start: start)
        let send = core.nextSend(at: start + .milliseconds(500))!
        let id = JobID.random()
        core.sent(send, as: id, at: start + .milliseconds(500))
        _ = core.answered(id, .success([1]), at: start + .milliseconds(600), canResend: false)
        #expect(core.tally.results == 1)
        #expect(core.tally.milliseconds(atPercentile: 50) >= 599 && core.tally.milliseconds(atPercentile: 50) <= 601)
    }

    @Test func aClosedLoopKeepsItsWindowFull() {
        var core = LoadTestCore(
            plan: plan(.closedLoop(concurrency: 3), warmUp: .zero, duration: nil, requests: 5), start: start)
        let first = drain(&core, at: start)
        #expect(first.count == 3)
        #expect(drain(&core, at: start + .milliseconds(1)).isEmpty, "full window")
        _ = core.answered(first[0].0, .success([]), at: start + .milliseconds(10), canResend: false)
        let next = drain(&core, at: start + .milliseconds(10))
        #expect(next.count == 1)
        _ = core.answered(first[1].0, .failure(.timedOut), at: start + .milliseconds(20), canResend: false)
        #expect(drain(&core, at: start + .milliseconds(20)).count == 1, "the fifth and last request")
        #expect(drain(&core, at: start + .milliseconds(30)).isEmpty)
        #expect(core.tally.results == 1 && core.tally.errors == 1 && core.tally.errorsByCode == ["timeout": 1])
        #expect(!core.isFinished(at: start + .milliseconds(30)), "three still in flight")
    }

    @Test func unansweredJobsTimeOutAfterTheirDeadlineAndAGrace() {
        var core = LoadTestCore(
            plan: plan(.closedLoop(concurrency: 2), warmUp: .zero, duration: nil, requests: 2), start: start)
        let sent = drain(&core, at: start)
        #expect(core.expire(at: start + .seconds(7)).isEmpty, "5 s deadline + 2 s grace not yet over")
        #expect(Set(core.expire(at: start + .milliseconds(7001))) == Set(sent.map(\.0)))
        #expect(core.tally.errorsByCode == ["timeout": 2])
        #expect(core.isFinished(at: start + .milliseconds(7001)))
    }

    @Test func aJobRefusedForAStaleEpochIsResentOnceAfterOneRefreshASecond() {
        var core = LoadTestCore(
            plan: plan(.closedLoop(concurrency: 2), warmUp: .zero, duration: nil, requests: 2), start: start)
        let sent = drain(&core, at: start)
        let first = core.answered(sent[0].0, .failure(unknownEpoch), at: start + .milliseconds(5), canResend: true)
        #expect(first?.refreshFirst == true && first?.send.resend == true && first?.send.due == sent[0].1.due)
        let second = core.answered(sent[1].0, .failure(unknownEpoch), at: start + .milliseconds(6), canResend: true)
        #expect(second?.refreshFirst == false, "one manifest refresh a second at most")
        let again = JobID.random()
        core.sent(first!.send, as: again, at: start + .milliseconds(7))
        #expect(core.tally.resent == 1 && core.tally.totalSent == 3 && core.tally.measuredSent == 2)
        // Refused again: counted as the error, never resent twice.
        #expect(core.answered(again, .failure(unknownEpoch), at: start + .milliseconds(8), canResend: true) == nil)
        #expect(core.tally.errorsByCode == ["unknown_epoch": 1])
        // Without a way to refresh, the refusal is simply an error.
        var plain = LoadTestCore(
            plan: plan(.closedLoop(concurrency: 1), warmUp: .zero, duration: nil, requests: 1), start: start)
        let only = drain(&plain, at: start)
        #expect(
            plain.answered(only[0].0, .failure(unknownEpoch), at: start + .milliseconds(1), canResend: false) == nil)
        #expect(plain.tally.errors == 1)
    }

    @Test func workersShareThePlanAndTheirFiguresAddUp() {
        let whole = plan(.openLoop(ratePerSecond: 100), duration: nil, requests: 10)
        let shares = (0..<3).map { whole.share(worker: $0, of: 3) }
        #expect(shares.map(\.requests) == [4, 3, 3])
        #expect(shares.allSatisfy { $0.mode == .openLoop(ratePerSecond: 100.0 / 3) })
        let closed = plan(.closedLoop(concurrency: 5)).share(worker: 1, of: 2)
        #expect(closed.mode == .closedLoop(concurrency: 2))

        var a = LoadTestCore(
            plan: plan(.closedLoop(concurrency: 1), warmUp: .zero, duration: nil, requests: 1), start: start)
        var b = LoadTestCore(
            plan: plan(.closedLoop(concurrency: 1), warmUp: .zero, duration: nil, requests: 1), start: start)
        let sentA = drain(&a, at: start)
        let sentB = drain(&b, at: start)
        _ = a.answered(sentA[0].0, .success([]), at: start + .milliseconds(10), canResend: false)
        _ = b.answered(sentB[0].0, .success([]), at: start + .milliseconds(30), canResend: false)
        var merged = a.tally
        merged.merge(b.tally)
        #expect(merged.results == 2 && merged.totalSent == 2 && merged.histogram.totalCount == 2)
        #expect(merged.milliseconds(atPercentile: 100) >= 29.9)
        let result = LoadTestResult(
            plan: plan(.closedLoop(concurrency: 2)), workers: 2, tally: merged, clientCPUSeconds: 0)
        #expect(result.workers == 2 && result.results == 2)
    }

    /// The one key-rotation rule the client library and the load test share: `unknown_epoch`
    /// only, each job once, a refresh at most once a second.
    @Test func rotationResendsEachJobOnceAndRefreshesAtMostOnceASecond() {
        #expect(RotationResend.callsForResend(Result<[UInt8], ClientError>.failure(unknownEpoch), alreadyResent: false))
        #expect(!RotationResend.callsForResend(Result<[UInt8], ClientError>.failure(unknownEpoch), alreadyResent: true))
        #expect(!RotationResend.callsForResend(Result<[UInt8], ClientError>.failure(.timedOut), alreadyResent: false))
        #expect(!RotationResend.callsForResend(.success([1]), alreadyResent: false))
        var rotation = RotationResend()
        let answers = [
            rotation.refreshFirst(at: start), rotation.refreshFirst(at: start + .milliseconds(999)),
            rotation.refreshFirst(at: start + .seconds(1)),
        ]
        #expect(answers == [true, false, true])
    }
}
