import Foundation

/// A bounded hand-off from a stage's I/O thread to its compute thread that forms batches:
/// it returns as soon as `maxBatch` jobs wait, or `maxDelay` after the oldest arrived — but
/// only waits while more work is coming (see `BatchWait`), so a lone job at low load is
/// computed at once instead of after `maxDelay`.
///
/// Items are hops, each weighing its number of jobs; a batch takes whole items, so a bundle is
/// never split between two batches (its outputs leave together, as one bundle).
final class BatchQueue<Item: Sendable>: @unchecked Sendable {
    /// A batch and, for each of its items, when it was pushed (for the queue-wait histogram).
    struct Batch {
        var items: [Item]
        var arrivals: [ContinuousClock.Instant]
    }

    // @unchecked Sendable: every access to `items`, `queuedJobs`, `closed` and `arrivalGaps`
    // happens under `condition`.
    private let condition = NSCondition()
    private var items: [(item: Item, weight: Int, arrived: ContinuousClock.Instant)] = []
    private var queuedJobs = 0
    private var closed = false
    private var arrivalGaps = BatchWait.ArrivalGaps()
    private let weight: @Sendable (Item) -> Int
    /// Jobs held at once; an item is taken while fewer than this wait.
    let capacity: Int

    init(capacity: Int, weight: @escaping @Sendable (Item) -> Int) {
        self.capacity = capacity
        self.weight = weight
    }

    /// Jobs waiting.
    var count: Int { condition.withLock { queuedJobs } }

    /// Adds an item; `false` when full or closed (the caller refuses the work as busy).
    func push(_ item: Item) -> Bool {
        condition.withLock {
            guard !closed, queuedJobs < capacity else { return false }
            let jobs = weight(item)
            let now = ContinuousClock.now
            items.append((item, jobs, now))
            arrivalGaps.record(arrival: now)
            queuedJobs += jobs
            condition.broadcast()
            return true
        }
    }

    /// Waits for the next batch; an empty result means the queue was closed and drained.
    func nextBatch(maxBatch: Int, maxDelay: Duration) -> [Item] {
        nextTimedBatch(maxBatch: maxBatch, maxDelay: maxDelay).items
    }

    /// Waits for the next batch, with each item's arrival; empty when the queue was closed and drained.
    func nextTimedBatch(maxBatch: Int, maxDelay: Duration) -> Batch {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        while queuedJobs < maxBatch && !closed, let first = items.first {
            guard
                let due = BatchWait.waitUntil(
                    oldest: first.arrived, gaps: arrivalGaps, maxDelay: maxDelay, now: .now)
            else { break }
            let (seconds, attoseconds) = ContinuousClock.now.duration(to: due).components
            _ = condition.wait(until: Date().addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18))
        }
        // Whole items up to maxBatch jobs; at least one, however large.
        var batch = Batch(items: [], arrivals: [])
        var jobs = 0
        while let next = items.first, batch.items.isEmpty || jobs + next.weight <= maxBatch {
            batch.items.append(next.item)
            batch.arrivals.append(next.arrived)
            jobs += next.weight
            items.removeFirst()
        }
        queuedJobs -= jobs
        return batch
    }

    /// No more pushes; `nextBatch` returns what is left, then empty batches.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }
}
