import Logging
import Synchronization

/// Warnings about refused input, at most a few lines a minute per kind: under a flood the
/// log gets one line now and then naming how many were not written, never one per request.
/// Metrics count every refusal; this only keeps stderr (and the disk behind it) bounded.
final class SampledLog: Sendable {
    private struct Kind {
        var bucket: TokenBucket
        var suppressed = 0
    }

    private let logger: Logger
    private let burst: Int
    private let perSecond: Double
    private let kinds = Mutex([String: Kind]())

    init(logger: Logger, burst: Int = 5, perSecond: Double = 0.1) {
        self.logger = logger
        self.burst = burst
        self.perSecond = perSecond
    }

    /// Logs `message` for `kind` (a fixed name, never input) if the kind's budget allows.
    /// Metadata values must already be escaped (`LogText.escaped`).
    func warning(_ kind: String, _ message: Logger.Message, metadata: Logger.Metadata = [:], now: UInt64) {
        let suppressed: Int? = kinds.withLock { kinds in
            var entry = kinds[kind] ?? Kind(bucket: TokenBucket(capacity: burst, perSecond: perSecond))
            defer { kinds[kind] = entry }
            guard entry.bucket.take(now: now) else {
                entry.suppressed += 1
                return nil
            }
            defer { entry.suppressed = 0 }
            return entry.suppressed
        }
        guard let suppressed else { return }
        var metadata = metadata
        metadata["kind"] = "\(kind)"
        if suppressed > 0 { metadata["suppressedSinceLast"] = "\(suppressed)" }
        logger.warning(message, metadata: metadata)
    }
}
