import Foundation

/// A bounded hand-off from a stage's I/O thread to its compute thread that forms batches:
/// it returns as soon as `maxBatch` items wait, or `maxDelay` after the oldest arrived.
final class BatchQueue<Item: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: every access to `items` and `closed` happens under `condition`.
    private let condition = NSCondition()
    private var items: [(item: Item, arrived: ContinuousClock.Instant)] = []
    private var closed = false
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    var count: Int { condition.withLock { items.count } }

    /// Adds an item; `false` when full or closed (the caller refuses the work as busy).
    func push(_ item: Item) -> Bool {
        condition.withLock {
            guard !closed, items.count < capacity else { return false }
            items.append((item, .now))
            condition.broadcast()
            return true
        }
    }

    /// Waits for the next batch; an empty result means the queue was closed and drained.
    func nextBatch(maxBatch: Int, maxDelay: Duration) -> [Item] {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        while items.count < maxBatch && !closed, let first = items.first {
            let due = first.arrived + maxDelay
            let remaining = ContinuousClock.now.duration(to: due)
            if remaining <= .zero { break }
            let (seconds, attoseconds) = remaining.components
            _ = condition.wait(until: Date().addingTimeInterval(Double(seconds) + Double(attoseconds) / 1e18))
        }
        let taken = items.prefix(maxBatch).map(\.item)
        items.removeFirst(taken.count)
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
