/// At most `capacity` events at once and `perSecond` on average: a budget for work that an
/// attacker could otherwise make without limit (log entries, log lines).
struct TokenBucket {
    let capacity: Double
    let perSecond: Double
    private var tokens: Double
    private var updatedAt: UInt64?

    init(capacity: Int, perSecond: Double) {
        precondition(capacity > 0 && perSecond >= 0, "a token bucket holds at least one token")
        self.capacity = Double(capacity)
        self.perSecond = perSecond
        tokens = Double(capacity)
    }

    /// Takes one token if there is one; `now` in milliseconds.
    mutating func take(now: UInt64) -> Bool {
        if let updatedAt, now > updatedAt {
            tokens = min(capacity, tokens + Double(now - updatedAt) / 1000 * perSecond)
        }
        updatedAt = max(updatedAt ?? now, now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
