/// Builds Prometheus text exposition (format 0.0.4): `# HELP`, `# TYPE`, then samples.
public struct PrometheusExposition: Sendable {
    public private(set) var text = ""
    private var declared: Set<String> = []

    public init() {}

    public mutating func counter(_ name: String, _ help: String, _ value: Double, labels: [String: String] = [:]) {
        declare(name, help, "counter")
        sample(name, value, labels)
    }

    public mutating func gauge(_ name: String, _ help: String, _ value: Double, labels: [String: String] = [:]) {
        declare(name, help, "gauge")
        sample(name, value, labels)
    }

    /// A histogram: cumulative `_bucket{le=…}` samples, `_sum` and `_count`.
    public mutating func histogram(
        _ name: String, _ help: String, _ histogram: BucketHistogram, labels: [String: String] = [:]
    ) {
        declare(name, help, "histogram")
        var cumulative: UInt64 = 0
        for (bound, count) in zip(histogram.upperBounds, histogram.counts) {
            cumulative += count
            sample("\(name)_bucket", Double(cumulative), labels.merging(["le": Self.format(bound)]) { $1 })
        }
        sample("\(name)_bucket", Double(histogram.count), labels.merging(["le": "+Inf"]) { $1 })
        sample("\(name)_sum", histogram.sum, labels)
        sample("\(name)_count", Double(histogram.count), labels)
    }

    private mutating func declare(_ name: String, _ help: String, _ type: String) {
        guard declared.insert(name).inserted else { return }
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    private mutating func sample(_ name: String, _ value: Double, _ labels: [String: String]) {
        if labels.isEmpty {
            text += "\(name) \(Self.format(value))\n"
        } else {
            let rendered = labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\(Self.escape($0.value))\"" }.joined(
                separator: ",")
            text += "\(name){\(rendered)} \(Self.format(value))\n"
        }
    }

    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }

    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
