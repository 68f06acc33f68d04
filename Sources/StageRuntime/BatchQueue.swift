import Foundation

/// A bounded hand-off from a stage's I/O thread to its compute thread that forms batches:
/// it returns as soon as `maxBatch` jobs wait, or `maxDelay` after the oldest arrived.
///
/// Items are hops, each weighing its number of jobs; a batch takes whole items, so a bundle is
/// never split between two batches (its outputs leave together, as one bundle).
final class BatchQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: every access to `items`, `queuedJobs` and `closed` happens under `condition`.
    private let condition = NSCondition()
    private var items: [(item: Item, weight: Int, arrived: ContinuousClock.Instant)] = []
    private var queuedJobs = 0
    private var closed = false
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
            items.append((item, jobs, .now))
            queuedJobs += jobs
            condition.broadcast()
            return true
        }
    }

    /// Waits for the next batch; an empty result means the queue was closed and drained.
    func nextBatch(maxBatch: Int, maxDelay: Duration) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        while queuedJobs < maxBatch && !closed, let first = items.first {
            let due = first.arrived + maxDelay
            let remaining = ContinuousClock.now.duration(to: due)
            if remaining <= .zero { break }
            let (seconds, attoseconds) = remaining.components
            _ = condition.wait(until: Date().addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18))
        }
        // Whole items up to maxBatch jobs; at least one, however large.
        var taken: [Item] = []
        var jobs = 0
        while let next = items.first, taken.isEmpty || jobs + next.weight <= maxBatch {
            taken.append(next.item)
            jobs += next.weight
            items.removeFirst()
        }
        queuedJobs -= jobs
        return taken
    }

    /// No more pushes; `nextBatch` returns what is left, then empty batches.
    func close() {
        condition.withLock {
            closed = true
            condition.broadcast()
        }
    }
}
