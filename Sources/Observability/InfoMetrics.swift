import Synchronization

/// Process-wide `_info` gauges (value 1, the facts in the labels) that every metrics endpoint of
/// the process serves after its own metrics, beside the `process_*` ones — e.g. the matrix kernel
/// a stage's engine runs, which is fixed when the process starts.
public enum InfoMetrics {
    private struct Entry: Sendable {
        var help: String
        var labels: [String: String]
    }

    private static let entries = Mutex<[String: Entry]>([:])

    /// Sets (or replaces) the info metric `name`.
    public static func set(_ name: String, _ help: String, labels: [String: String]) {
        entries.withLock { $0[name] = Entry(help: help, labels: labels) }
    }

    /// Appends every info metric set so far, sorted by name.
    public static func exposition(into exposition: inout PrometheusExposition) {
        let current = entries.withLock { $0 }
        for (name, entry) in current.sorted(by: { $0.key < $1.key }) {
            exposition.gauge(name, entry.help, 1, labels: entry.labels)
        }
    }
}
