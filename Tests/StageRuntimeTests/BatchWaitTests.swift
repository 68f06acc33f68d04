import Testing

@testable import StageRuntime

/// The rule that decides whether a stage waits for a fuller batch, on instants the test sets:
/// a lone job at low load goes at once; a stream of hops faster than `maxDelay` still batches.
@Suite("Batch wait")
struct BatchWaitTests {
    let start = ContinuousClock.now
    let maxDelay = Duration.milliseconds(2)

    func gaps(_ offsets: [Duration]) -> BatchWait.ArrivalGaps {
        var gaps = BatchWait.ArrivalGaps()
        for offset in offsets { gaps.record(arrival: start + offset) }
        return gaps
    }

    @Test func theFirstHopEverGoesAtOnce() {
        let one = gaps([.zero])
        #expect(BatchWait.waitUntil(oldest: start, gaps: one, maxDelay: maxDelay, now: start) == nil)
    }

    @Test func hopsSparserThanTheDelayGoAtOnce() {
        // One job every 200 ms (5 jobs/s): nothing else is coming within maxDelay.
        let sparse = gaps((0..<10).map { .milliseconds(200 * $0) })
        let last = start + .milliseconds(1800)
        #expect(BatchWait.waitUntil(oldest: last, gaps: sparse, maxDelay: maxDelay, now: last) == nil)
    }

    @Test func aDenseStreamWaitsForMore() {
        // One hop every 100 µs: worth waiting, but only while the stream goes on.
        let offsets: [Duration] = (0..<20).map { .microseconds(100 * $0) }
        let dense = gaps(offsets)
        let last = start + offsets.last!
        let due = BatchWait.waitUntil(oldest: last, gaps: dense, maxDelay: maxDelay, now: last)
        #expect(due == last + .microseconds(200))
        // Held up to maxDelay after the oldest hop at most.
        let oldest = last - .microseconds(1950)
        #expect(BatchWait.waitUntil(oldest: oldest, gaps: dense, maxDelay: maxDelay, now: last) == oldest + maxDelay)
    }

    @Test func aPausedStreamStopsTheWait() {
        let offsets: [Duration] = (0..<20).map { .microseconds(100 * $0) }
        let dense = gaps(offsets)
        let last = start + offsets.last!
        // Two gaps after the last arrival nothing more came: take the batch.
        #expect(
            BatchWait.waitUntil(oldest: last, gaps: dense, maxDelay: maxDelay, now: last + .microseconds(250)) == nil)
    }

    @Test func noDelayNeverWaits() {
        let dense = gaps((0..<20).map { .microseconds(10 * $0) })
        #expect(BatchWait.waitUntil(oldest: start, gaps: dense, maxDelay: .zero, now: start) == nil)
    }

    @Test func aLoneJobIsTakenWithoutTheDelay() {
        // The queue itself: one item after a sparse history is returned at once even with a
        // maxDelay of a minute (the test would hang for a minute under the old rule).
        let queue = BatchQueue<Int>(capacity: 8) { _ in 1 }
        #expect(queue.push(1))
        let batch = queue.nextTimedBatch(maxBatch: 8, maxDelay: .seconds(60))
        #expect(batch.items == [1])
        #expect(batch.arrivals.count == 1)
    }

    @Test func aFullBatchIsTakenWhole() {
        let queue = BatchQueue<Int>(capacity: 64) { $0 }
        for weight in [3, 3, 3] { #expect(queue.push(weight)) }
        // Whole items up to maxBatch jobs: 3 + 3, the third left for the next batch.
        #expect(queue.nextBatch(maxBatch: 6, maxDelay: .seconds(60)) == [3, 3])
        #expect(queue.count == 3)
    }
}
