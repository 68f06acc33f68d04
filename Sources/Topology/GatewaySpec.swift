/// The gateway: the front socket clients submit to and the backend socket every stage replica
/// connects to, with the limits it enforces on each job.
public struct GatewaySpec: Sendable, Hashable {
    public let host: String
    /// Where the front ROUTER binds (clients); see `Topology.frontEndpoint` for the connect form.
    public let front: Endpoint
    /// Where the backend ROUTER binds (stage replicas' DEALERs); see `Topology.backendEndpoint`.
    public let backend: Endpoint
    /// Accepted jobs not yet ended, at most; past this a new job is answered "busy".
    public let maxInFlight: Int
    /// Jobs one client connection may have in flight, if the file says; `nil` for the default
    /// (see `clientShare`). Kept apart from the default so a file without it keeps its measurement.
    public let maxInFlightPerClient: Int?
    /// Jobs all connections from one peer address may have in flight, if the file says; `nil`
    /// for the default (see `addressShare`).
    public let maxInFlightPerAddress: Int?
    /// The largest sealed payload accepted from a client or a stage, in bytes.
    public let maxPayload: Int
    /// A job's deadline when the client asks for none.
    public let deadline: Duration
    /// The longest deadline a client may ask for; at least `deadline`.
    public let maxDeadline: Duration
    /// How often the gateway and each replica exchange heartbeats.
    public let heartbeatInterval: Duration
    /// Silence after which a replica is presumed dead and its jobs are retried elsewhere.
    public let heartbeatTimeout: Duration
    /// How many times one job's hop is dispatched at most (first try included), so that a job
    /// that kills every replica it touches cannot take the whole stage down in a loop.
    public let maxAttempts: Int
    public let metrics: MetricsAddress

    public init(
        host: String, front: Endpoint, backend: Endpoint, maxInFlight: Int, maxInFlightPerClient: Int? = nil,
        maxInFlightPerAddress: Int? = nil, maxPayload: Int, deadline: Duration, maxDeadline: Duration,
        heartbeatInterval: Duration, heartbeatTimeout: Duration, maxAttempts: Int, metrics: MetricsAddress
    ) {
        self.host = host
        self.front = front
        self.backend = backend
        self.maxInFlight = maxInFlight
        self.maxInFlightPerClient = maxInFlightPerClient
        self.maxInFlightPerAddress = maxInFlightPerAddress
        self.maxPayload = maxPayload
        self.deadline = deadline
        self.maxDeadline = maxDeadline
        self.heartbeatInterval = heartbeatInterval
        self.heartbeatTimeout = heartbeatTimeout
        self.maxAttempts = maxAttempts
        self.metrics = metrics
    }

    /// The jobs one client connection may have in flight: as given, or a quarter of
    /// `maxInFlight` (at least 1), the rule `GatewayConfiguration` applies too.
    public var clientShare: Int { maxInFlightPerClient ?? max(1, maxInFlight / 4) }

    /// The jobs all connections from one peer address may have in flight: as given, or half of
    /// `maxInFlight` (at least 1), the rule `GatewayConfiguration` applies too.
    public var addressShare: Int { maxInFlightPerAddress ?? max(1, maxInFlight / 2) }
}
