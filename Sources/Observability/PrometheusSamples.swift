/// Samples read back from a Prometheus text exposition (what `PrometheusExposition` writes), for
/// tools that scrape a service before and after a run and compare: `sealpipe loadtest --trace`.
///
/// Reads only what it understands: `name{label="value",…} number` and `name number`; comments,
/// and lines that do not parse, are skipped (and counted in `skippedLines`). Bounded: at most
/// `maxSamples` samples are kept, so an endpoint that answers with too much text cannot grow
/// the reader's memory without bound.
public struct PrometheusSamples: Sendable {
    /// One sample: its name, labels and value.
    public struct Sample: Sendable, Hashable {
        public let name: String
        public let labels: [String: String]
        public let value: Double
    }

    public static let maxSamples = 100_000
    public private(set) var samples: [Sample] = []
    /// Lines neither comments, blank, nor samples this reader understands.
    public private(set) var skippedLines = 0

    public init(parsing text: String) {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix("#") { continue }
            guard samples.count < Self.maxSamples else {
                skippedLines += 1
                continue
            }
            if let sample = Self.parse(line) { samples.append(sample) } else { skippedLines += 1 }
        }
    }

    /// The sum of every sample named `name` whose labels include `matching` (e.g. over replicas).
    public func sum(_ name: String, matching: [String: String] = [:]) -> Double {
        samples.lazy.filter { $0.name == name && Self.includes($0.labels, matching) }.reduce(0) { $0 + $1.value }
    }

    /// The distinct values of `label` among samples named `name`.
    public func labelValues(_ label: String, of name: String) -> Set<String> {
        Set(samples.lazy.filter { $0.name == name }.compactMap { $0.labels[label] })
    }

    /// A histogram's cumulative buckets, sum and count, summed over the samples whose labels
    /// include `matching`; `nil` when there is none.
    public func histogram(_ name: String, matching: [String: String] = [:]) -> HistogramSample? {
        var buckets: [Double: Double] = [:]
        for sample in samples where sample.name == "\(name)_bucket" && Self.includes(sample.labels, matching) {
            guard let bound = sample.labels["le"].flatMap(Self.number) else { continue }
            buckets[bound, default: 0] += sample.value
        }
        guard !buckets.isEmpty else { return nil }
        return HistogramSample(
            cumulative: buckets.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            sum: sum("\(name)_sum", matching: matching), count: sum("\(name)_count", matching: matching))
    }

    private static func includes(_ labels: [String: String], _ wanted: [String: String]) -> Bool {
        wanted.allSatisfy { labels[$0.key] == $0.value }
    }

    private static func number(_ text: some StringProtocol) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        default: Double(text)
        }
    }

    private static func parse(_ line: Substring) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = number(line[line.index(after: space)...]) else {
            return nil
        }
        let head = line[..<space]
        guard let brace = head.firstIndex(of: "{") else {
            return head.isEmpty || head.contains(" ") ? nil : Sample(name: String(head), labels: [:], value: value)
        }
        guard head.last == "}" else { return nil }
        var labels: [String: String] = [:]
        var rest = head[head.index(after: brace)..<head.index(before: head.endIndex)]
        while !rest.isEmpty {
            guard let equals = rest.firstIndex(of: "="), rest[rest.index(after: equals)...].first == "\"" else {
                return nil
            }
            let key = String(rest[..<equals])
            var index = rest.index(equals, offsetBy: 2)
            var value = ""
            var closed = false
            while index < rest.endIndex {
                let character = rest[index]
                if character == "\\" {
                    index = rest.index(after: index)
                    guard index < rest.endIndex else { return nil }
                    value.append(rest[index] == "n" ? "\n" : rest[index])
                } else if character == "\"" {
                    closed = true
                    break
                } else {
                    value.append(character)
                }
                index = rest.index(after: index)
            }
            guard closed, !key.isEmpty else { return nil }
            labels[key] = value
            rest = rest[rest.index(after: index)...]
            if rest.first == "," { rest = rest.dropFirst() }
        }
        return Sample(name: String(head[..<brace]), labels: labels, value: value)
    }
}

/// A histogram as scraped: cumulative bucket counts by upper bound, the sum and the count.
public struct HistogramSample: Sendable, Equatable {
    public var cumulative: [(bound: Double, count: Double)]
    public var sum: Double
    public var count: Double

    public init(cumulative: [(bound: Double, count: Double)], sum: Double, count: Double) {
        self.cumulative = cumulative
        self.sum = sum
        self.count = count
    }

    public static func == (lhs: HistogramSample, rhs: HistogramSample) -> Bool {
        lhs.sum == rhs.sum && lhs.count == rhs.count && lhs.cumulative.map(\.bound) == rhs.cumulative.map(\.bound)
            && lhs.cumulative.map(\.count) == rhs.cumulative.map(\.count)
    }

    /// What was observed between `earlier` and this scrape (same buckets).
    public func since(_ earlier: HistogramSample?) -> HistogramSample {
        guard let earlier else { return self }
        let before = Dictionary(earlier.cumulative.map { ($0.bound, $0.count) }) { $1 }
        return HistogramSample(
            cumulative: cumulative.map { ($0.bound, $0.count - (before[$0.bound] ?? 0)) }, sum: sum - earlier.sum,
            count: count - earlier.count)
    }

    /// The mean observation; 0 when empty.
    public var mean: Double { count > 0 ? sum / count : 0 }

    /// The value at `quantile` (0…1), interpolated linearly within its bucket, as Prometheus's
    /// `histogram_quantile` does; 0 when empty. Above the last finite bound, that bound.
    public func quantile(_ quantile: Double) -> Double {
        guard count > 0 else { return 0 }
        let rank = quantile * count
        var lowerBound = 0.0
        var lowerCount = 0.0
        for (bound, cumulativeCount) in cumulative {
            if cumulativeCount >= rank {
                guard bound.isFinite else { return lowerBound }
                let inBucket = cumulativeCount - lowerCount
                return inBucket <= 0 ? bound : lowerBound + (bound - lowerBound) * (rank - lowerCount) / inBucket
            }
            lowerBound = bound.isFinite ? bound : lowerBound
            lowerCount = cumulativeCount
        }
        return lowerBound
    }
}
