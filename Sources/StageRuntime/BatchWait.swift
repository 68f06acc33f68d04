/// When a stage's compute thread, holding fewer jobs than a full batch, should stop waiting for
/// more: a pure rule over arrival times, so it is tested without threads or sleeps.
///
/// Waiting up to `maxDelay` for a fuller batch pays only while hops keep arriving faster than
/// that. At low load (one job every 200 ms) every stage waiting `maxDelay` for company that
/// never comes adds `maxDelay` per stage to each job's latency. So the queue keeps a smoothed
/// gap between arrivals and waits only while (a) that gap is shorter than `maxDelay`, and (b)
/// the stream has not paused: no more than twice the gap has passed since the last arrival.
/// Under load, gaps are microseconds and batches fill as before; between bursts, the last hop
/// of a burst goes after about two gaps instead of `maxDelay`.
enum BatchWait {
    /// A smoothed gap between arrivals (exponentially weighted, weight 1/8 for the newest).
    struct ArrivalGaps: Sendable, Equatable {
        private(set) var last: ContinuousClock.Instant?
        private(set) var smoothed: Duration?

        init() {}

        mutating func record(arrival: ContinuousClock.Instant) {
            if let last {
                let gap = max(.zero, arrival - last)
                smoothed = smoothed.map { $0 * 7 / 8 + gap / 8 } ?? gap
            }
            last = arrival
        }
    }

    /// Until when to wait for more, or `nil` to take the batch now.
    static func waitUntil(
        oldest: ContinuousClock.Instant, gaps: ArrivalGaps, maxDelay: Duration, now: ContinuousClock.Instant
    ) -> ContinuousClock.Instant? {
        guard maxDelay > .zero, let gap = gaps.smoothed, let last = gaps.last, gap < maxDelay else { return nil }
        let due = min(oldest + maxDelay, last + gap * 2)
        return due > now ? due : nil
    }
}
