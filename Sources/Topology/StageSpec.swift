/// One stage of the pipeline, fully resolved: the stage's name is the role its replicas attest
/// as and the role hops to it are sealed to.
public struct StageSpec: Sendable, Hashable {
    /// The role name (`preprocessor`, `shard-0`, …).
    public let name: String
    public let kind: StageKind
    /// The host its replicas run on.
    public let host: String
    /// How many identical processes serve this role; at least 1.
    public let replicas: Int
    /// The encoder layers this stage runs, `start..<end`; `nil` for every other kind.
    public let layers: Range<Int>?
    /// The most jobs computed together in one batch; at least 1.
    public let maxBatch: Int
    /// How long a replica waits for a batch to fill before it runs a partial one.
    public let maxDelay: Duration
    /// The bound of a replica's queue: also the credits it announces to the gateway, so the
    /// gateway never has more than this many of its jobs in flight at one replica.
    public let queue: Int
    /// Compute threads per replica (OpenBLAS and friends); set on purpose, never left to guess.
    public let threads: Int
    /// The arithmetic of the encoder's linear layers; always `fp32` for other kinds.
    public let precision: StagePrecision
    /// Where replica 0 serves metrics; replica `i` uses port `metrics.port + i`.
    public let metrics: MetricsAddress

    public init(
        name: String, kind: StageKind, host: String, replicas: Int, layers: Range<Int>?, maxBatch: Int,
        maxDelay: Duration, queue: Int, threads: Int, precision: StagePrecision = .fp32, metrics: MetricsAddress
    ) {
        self.name = name
        self.kind = kind
        self.host = host
        self.replicas = replicas
        self.layers = layers
        self.maxBatch = maxBatch
        self.maxDelay = maxDelay
        self.queue = queue
        self.threads = threads
        self.precision = precision
        self.metrics = metrics
    }

    /// The metrics address of replica `replica`.
    public func metrics(replica: Int) -> MetricsAddress {
        MetricsAddress(host: metrics.host, port: metrics.port + replica)
    }
}
