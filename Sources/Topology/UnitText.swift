/// Durations and byte sizes as operators write them in a topology file.
///
/// Durations are a whole number and one unit: `250us`, `500ms`, `2s`, `10m`, `1h` (also `ns`).
/// Sizes are plain bytes (`4096`) or a whole number with `B`, `KiB`, `MiB`, `GiB` (powers of
/// 1024) or `KB`, `MB`, `GB` (powers of 1000). No fractions, no sums: one obvious spelling.
public enum UnitText {
    static let durationUnits: [(suffix: String, nanoseconds: Int64)] = [
        ("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000),
        ("h", 3_600_000_000_000),
    ]
    static let sizeUnits: [(suffix: String, bytes: Int)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("KB", 1_000), ("MB", 1_000_000),
        ("GB", 1_000_000_000), ("B", 1),
    ]

    /// Parses a duration such as `500ms`, or returns `nil`.
    public static func duration(_ text: String) -> Duration? {
        // Longest suffix first, so that `ms` is not read as `m` + garbage.
        for (suffix, scale) in durationUnits.sorted(by: { $0.suffix.count > $1.suffix.count })
        where text.hasSuffix(suffix) {
            let digits = text.dropLast(suffix.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int64(digits) else { return nil }
            let (nanoseconds, overflow) = value.multipliedReportingOverflow(by: scale)
            return overflow ? nil : .nanoseconds(nanoseconds)
        }
        return nil
    }

    /// Parses a size such as `1MiB` or `4096`, or returns `nil`.
    public static func byteSize(_ text: String) -> Int? {
        var digits = Substring(text)
        var scale = 1
        for (suffix, bytes) in sizeUnits where text.hasSuffix(suffix) {
            digits = text.dropLast(suffix.count)
            scale = bytes
            break
        }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), let value = Int(digits) else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }

    /// The shortest exact spelling of a duration in the largest unit that divides it (`90s`
    /// stays `90s`, `3600s` becomes `1h`).
    public static func format(_ duration: Duration) -> String {
        let nanoseconds = nanosecondCount(duration)
        if nanoseconds == 0 { return "0s" }
        for (suffix, scale) in durationUnits.reversed() where nanoseconds % scale == 0 {
            return "\(nanoseconds / scale)\(suffix)"
        }
        return "\(nanoseconds)ns"
    }

    /// A size in the largest binary unit that divides it (`1048576` becomes `1MiB`).
    public static func format(bytes: Int) -> String {
        for (suffix, scale) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes != 0 && bytes % scale == 0 {
            return "\(bytes / scale)\(suffix)"
        }
        return "\(bytes)B"
    }

    /// Whole nanoseconds of a duration (topology durations are whole nanoseconds by construction).
    public static func nanosecondCount(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
