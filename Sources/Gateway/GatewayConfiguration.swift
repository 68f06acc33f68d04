import Wire

/// The limits a gateway enforces, from the topology's `gateway` section.
public struct GatewayConfiguration: Sendable {
    /// Roles in pipeline order; the first receives client requests, the last produces results.
    public var roles: [String]
    /// How replicas prove their attested role: the pinned key broker identity and pipeline.
    public var replicaTrust: ReplicaTrust
    /// Jobs accepted at once; beyond it clients get `busy`.
    public var maxInFlight: Int
    /// Largest sealed request accepted, in bytes.
    public var maxPayloadBytes: Int
    /// Deadline for a job whose client asked for none.
    public var defaultDeadline: Duration
    /// Longest deadline a client may ask for.
    public var maxDeadline: Duration
    /// A replica silent this long is dead; its jobs are retried elsewhere.
    public var replicaTimeout: Duration
    /// Most dispatches of one hop (the first try plus retries after replica deaths).
    public var maxAttempts: Int
    /// Largest message (all frames) accepted from a stage replica; the wire's
    /// `PipelineMessage.maximumHopBytes` unless given.
    public var maxHopBytes: Int
    /// Requests held at once under the next key epoch, which no live front replica holds yet:
    /// a quota of their own, apart from `maxInFlight`, so requests no stage can open yet never
    /// crowd out real ones.
    public var maxAheadOfEpoch: Int
    /// How long such a request waits for a front replica to take up its epoch before it ends
    /// with `unknownEpoch`; a rotation's re-attestation takes a few seconds.
    public var aheadOfEpochHold: Duration

    public init(
        roles: [String], replicaTrust: ReplicaTrust, maxInFlight: Int = 1024, maxPayloadBytes: Int = 1 << 20,
        defaultDeadline: Duration = .seconds(30), maxDeadline: Duration = .seconds(300),
        replicaTimeout: Duration = .seconds(2),
        maxAttempts: Int = 3, maxHopBytes: Int? = nil, maxAheadOfEpoch: Int = 32,
        aheadOfEpochHold: Duration = .seconds(10)
    ) {
        precondition(!roles.isEmpty, "a pipeline has at least one role")
        self.roles = roles
        self.replicaTrust = replicaTrust
        self.maxInFlight = maxInFlight
        self.maxPayloadBytes = maxPayloadBytes
        self.defaultDeadline = defaultDeadline
        self.maxDeadline = maxDeadline
        self.replicaTimeout = replicaTimeout
        self.maxAttempts = maxAttempts
        self.maxHopBytes = maxHopBytes ?? PipelineMessage.maximumHopBytes
        self.maxAheadOfEpoch = maxAheadOfEpoch
        self.aheadOfEpochHold = aheadOfEpochHold
    }
}
