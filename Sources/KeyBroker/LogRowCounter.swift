import Synchronization

/// Rows of the transparency log's tables read and written by one store, so a test can show
/// that an append or a proof touches O(log n) rows, not the whole log.
final class LogRowCounter: Sendable {
    private let reads = Atomic<Int>(0)
    private let writes = Atomic<Int>(0)

    func read(_ rows: Int) { reads.add(rows, ordering: .relaxed) }
    func wrote(_ rows: Int) { writes.add(rows, ordering: .relaxed) }

    /// Rows read and written so far.
    var totals: (reads: Int, writes: Int) { (reads.load(ordering: .relaxed), writes.load(ordering: .relaxed)) }
}
