/// The conversions of `Duration` the project needs, written once.
///
/// `Duration` keeps seconds and attoseconds; sockets, metrics, timers and reports each want one
/// number in one unit, and each used to convert on its own.
extension Duration {
    /// Seconds as a floating-point value, for metrics, logs and `TimeInterval`.
    public var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Microseconds as a floating-point value.
    public var microsecondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
    }

    /// Whole milliseconds, truncated toward zero.
    public var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole microseconds, truncated toward zero.
    public var wholeMicroseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Milliseconds rounded up, so that a short positive timeout never becomes "don't wait".
    public var roundedUpMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    }
}
