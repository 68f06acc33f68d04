/// Turns a stream of like warnings into at most one line per class per interval, with the count
/// since the last line, so a flood of refused input costs a few log lines, not one per message.
///
/// A value with no I/O: callers record events as they happen and ask, with the time passed
/// in, which lines are due. The first report is due at once; later ones once per `interval`.
public struct WarningSampler: Sendable {
    /// One line to write: a class of warning and how many happened since its last line.
    public struct Line: Sendable, Hashable {
        public var kind: String
        public var count: Int

        public init(kind: String, count: Int) {
            self.kind = kind
            self.count = count
        }
    }

    public let interval: Duration
    private var pending: [String: Int] = [:]
    private var lastReport: ContinuousClock.Instant?

    public init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Notes `count` more warnings of `kind`. Kinds are few and chosen by the code (check names,
    /// error codes), never taken from input, so the table stays small.
    public mutating func record(_ kind: String, count: Int = 1) {
        guard count > 0 else { return }
        pending[kind, default: 0] += count
    }

    /// The lines due at `now`, one per kind recorded since the last report, sorted by kind; empty
    /// while the interval since the last report has not passed.
    public mutating func due(now: ContinuousClock.Instant) -> [Line] {
        guard !pending.isEmpty else { return [] }
        if let lastReport, now - lastReport < interval { return [] }
        lastReport = now
        defer { pending.removeAll(keepingCapacity: true) }
        return pending.sorted { $0.key < $1.key }.map { Line(kind: $0.key, count: $0.value) }
    }
}
