/// How a supervisor restarts a crashed child: exponential backoff with bounded jitter and a
/// cap, a reset after a healthy run, and a limit on crashes in a row after which restarting is
/// pointless and the supervisor gives up.
public struct RestartPolicy: Sendable, Hashable {
    /// The delay before the first restart after a crash.
    public var initialBackoff: Duration
    /// No restart is ever delayed longer than this, jitter included.
    public var maxBackoff: Duration
    /// Each crash in a row multiplies the delay by this (before the cap).
    public var multiplier: Int
    /// The delay is drawn uniformly from `base × (1 − jitter) … base × (1 + jitter)` (then
    /// capped), so that replicas that crashed together do not come back in lock-step. 0…1.
    public var jitter: Double
    /// A run at least this long counts as healthy: the next crash starts the backoff afresh.
    public var healthyAfter: Duration
    /// Crashes in a row, each within `healthyAfter` of its start, that are tolerated; one more
    /// and the supervisor gives up on the child.
    public var maxRapidCrashes: Int
    /// Exit codes that mean "restarting cannot help" (78, `EX_CONFIG`: bad configuration or
    /// refused attestation); the supervisor gives up at once.
    public var fatalExitCodes: Set<Int32>
    /// How long children get to drain after SIGTERM before they are killed.
    public var shutdownGrace: Duration

    public init(
        initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(30), multiplier: Int = 2,
        jitter: Double = 0.2, healthyAfter: Duration = .seconds(30), maxRapidCrashes: Int = 5,
        fatalExitCodes: Set<Int32> = [78], shutdownGrace: Duration = .seconds(10)
    ) {
        precondition(
            initialBackoff > .zero && maxBackoff >= initialBackoff, "backoff must be positive and capped above")
        precondition(multiplier >= 1 && (0...1).contains(jitter) && maxRapidCrashes >= 0, "invalid restart policy")
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.jitter = jitter
        self.healthyAfter = healthyAfter
        self.maxRapidCrashes = maxRapidCrashes
        self.fatalExitCodes = fatalExitCodes
        self.shutdownGrace = shutdownGrace
    }

    /// The un-jittered delay after the `crash`-th crash in a row (from 1), capped.
    public func baseBackoff(afterCrash crash: Int) -> Duration {
        var delay = initialBackoff
        for _ in 1..<max(crash, 1) {
            delay = delay * multiplier
            if delay >= maxBackoff { return maxBackoff }
        }
        return min(delay, maxBackoff)
    }

    /// The range the jittered delay after the `crash`-th crash in a row is drawn from.
    public func backoffBounds(afterCrash crash: Int) -> ClosedRange<Duration> {
        let base = baseBackoff(afterCrash: crash)
        let lower = min(base * (1 - jitter), maxBackoff)
        let upper = min(base * (1 + jitter), maxBackoff)
        return lower...upper
    }

    /// The delay after the `crash`-th crash in a row, for a uniform random `unit` in 0..<1.
    public func backoff(afterCrash crash: Int, unit: Double) -> Duration {
        let bounds = backoffBounds(afterCrash: crash)
        let unit = min(max(unit, 0), 1)
        return min(bounds.lowerBound + (bounds.upperBound - bounds.lowerBound) * unit, bounds.upperBound)
    }
}
