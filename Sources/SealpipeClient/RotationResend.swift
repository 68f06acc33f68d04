/// The one rule for answering a key rotation, shared by `PipelineClient.submit` and the load
/// test: a job refused as `unknown_epoch` (sealed under an epoch whose grace ended) is sealed
/// again under a fresh manifest and sent once more, never twice; the target is refreshed first
/// at most once a `refreshInterval`, however many jobs come back refused together.
struct RotationResend {
    /// The shortest time between two manifest fetches.
    static let refreshInterval: Duration = .seconds(1)
    private var lastRefresh: ContinuousClock.Instant?

    /// Whether `answer` calls for sending its job again: `unknown_epoch`, to a job not yet resent.
    static func callsForResend(_ answer: Result<some Any, ClientError>, alreadyResent: Bool) -> Bool {
        guard !alreadyResent, case .failure(let error) = answer else { return false }
        return error.code == .unknownEpoch
    }

    /// Whether to refresh the target before resending at `now`; a yes is remembered.
    mutating func refreshFirst(at now: ContinuousClock.Instant) -> Bool {
        guard lastRefresh.map({ now - $0 >= Self.refreshInterval }) ?? true else { return false }
        lastRefresh = now
        return true
    }
}
