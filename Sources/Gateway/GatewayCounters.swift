import Wire

/// What the gateway has done since it started; read by metrics and `sealpipe status`.
public struct GatewayCounters: Sendable, Hashable {
    /// Client messages received (well-formed or not).
    public var requests = 0
    /// Jobs accepted into the pipeline.
    public var accepted = 0
    /// Jobs that ended with a result.
    public var results = 0
    /// Client-visible errors by code name (for accepted jobs and refused requests alike).
    public var errors: [String: Int] = [:]
    /// Replica messages dropped, by reason (`unproven_peer`: a result, bundle or rejection from
    /// a connection that has not proven an attested role).
    public var droppedFromReplicas: [String: Int] = [:]
    /// Announcements refused, by the check they failed (`certificate_signature`,
    /// `announcement_signature`, `stale_announcement`, …): the peer is not counted as a replica.
    public var announcementsRefused: [String: Int] = [:]
    /// Hops dispatched again after their replica died.
    public var retries = 0
    /// Replicas declared dead after missing heartbeats.
    public var replicasLost = 0
    /// Requests refused `busy` because their client (`client`: one front connection) or their
    /// peer address (`address`) already held its share of `maxInFlight`; also counted in `errors`.
    public var busyOverShare: [String: Int] = [:]
    /// Messages over a socket's frame or byte bound, drained unread, by socket (front, backend).
    public var discarded: [String: Int] = [:]
    /// Client connections the front closed, by why (`signature`, `mechanism`, `reserved_flags`,
    /// `buffer_budget`, `too_many_connections`, …: see `BoundedRouter`).
    public var clientsClosed: [String: Int] = [:]

    public init() {}

    mutating func countError(_ code: ErrorCode) { errors[code.name, default: 0] += 1 }
    mutating func countDrop(_ reason: String) { droppedFromReplicas[reason, default: 0] += 1 }
    mutating func countShareRefusal(_ share: String) { busyOverShare[share, default: 0] += 1 }
    mutating func countRefusedAnnouncement(_ check: String) { announcementsRefused[check, default: 0] += 1 }

    /// All errors sent to clients.
    public var totalErrors: Int { errors.values.reduce(0, +) }
}
