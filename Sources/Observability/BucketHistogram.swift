/// A fixed-bucket histogram for metrics (durations in seconds, batch sizes).
///
/// `counts[i]` holds observations ≤ `upperBounds[i]` and above the previous bound; the last
/// element of `counts` holds those above every bound.
public struct BucketHistogram: Sendable, Hashable {
    public let upperBounds: [Double]
    public private(set) var counts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    public init(upperBounds: [Double]) {
        precondition(upperBounds == upperBounds.sorted(), "bucket bounds must ascend")
        self.upperBounds = upperBounds
        self.counts = Array(repeating: 0, count: upperBounds.count + 1)
    }

    /// Exponential buckets from 10 µs to about 10 s, for operation durations in seconds.
    public static func durations() -> BucketHistogram {
        BucketHistogram(upperBounds: (0..<16).map { 0.00001 * pow2($0) })
    }

    /// Buckets 1, 2, 4 … 256, for batch sizes.
    public static func sizes() -> BucketHistogram {
        BucketHistogram(upperBounds: (0...8).map { pow2($0) })
    }

    public mutating func observe(_ value: Double) {
        observe(value, times: 1)
    }

    /// Records `value` `times` times at once (e.g. a wait shared by every job of a hop).
    public mutating func observe(_ value: Double, times: UInt64) {
        guard times > 0 else { return }
        let index = upperBounds.firstIndex { value <= $0 } ?? upperBounds.count
        counts[index] += times
        sum += value * Double(times)
        count += times
    }

    private static func pow2(_ exponent: Int) -> Double { Double(1 << exponent) }
}
