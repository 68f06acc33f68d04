import Wire

/// The limits a gateway enforces, from the topology's `gateway` section.
public struct GatewayConfiguration: Sendable {
    /// Roles in pipeline order; the first receives client requests, the last produces results.
    public var roles: [String]
    /// How replicas prove their attested role: the pinned key broker identity and pipeline.
    public var replicaTrust: ReplicaTrust
    /// Jobs accepted at once; beyond it clients get `busy`.
    public var maxInFlight: Int
    /// Jobs one client (one front connection, one ROUTER routing identity) may have in flight at
    /// once, so that one connection cannot hold every slot of `maxInFlight`. At most `maxInFlight`.
    public var maxInFlightPerClient: Int
    /// Jobs all connections from one peer address may have in flight at once: a client that
    /// opens many connections still shares one address's quota. At most `maxInFlight`.
    public var maxInFlightPerAddress: Int
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
        roles: [String], replicaTrust: ReplicaTrust, maxInFlight: Int = 1024, maxInFlightPerClient: Int? = nil,
        maxInFlightPerAddress: Int? = nil, maxPayloadBytes: Int = 1 << 20,
        defaultDeadline: Duration = .seconds(30), maxDeadline: Duration = .seconds(300),
        replicaTimeout: Duration = .seconds(2),
        maxAttempts: Int = 3, maxHopBytes: Int? = nil, maxAheadOfEpoch: Int = 32,
        aheadOfEpochHold: Duration = .seconds(10)
    ) {
        precondition(!roles.isEmpty, "a pipeline has at least one role")
        self.roles = roles
        self.replicaTrust = replicaTrust
        self.maxInFlight = maxInFlight
        // A share is at least one job (a zero share would refuse every client) and never more
        // than the whole.
        let whole = max(1, maxInFlight)
        self.maxInFlightPerClient = min(whole, max(1, maxInFlightPerClient ?? Self.defaultClientShare(of: maxInFlight)))
        self.maxInFlightPerAddress = min(
            whole, max(1, maxInFlightPerAddress ?? Self.defaultAddressShare(of: maxInFlight)))
        self.maxPayloadBytes = maxPayloadBytes
        self.defaultDeadline = defaultDeadline
        self.maxDeadline = maxDeadline
        self.replicaTimeout = replicaTimeout
        self.maxAttempts = maxAttempts
        self.maxHopBytes = maxHopBytes ?? PipelineMessage.maximumHopBytes
        self.maxAheadOfEpoch = maxAheadOfEpoch
        self.aheadOfEpochHold = aheadOfEpochHold
    }

    /// A client's share when none is given: a quarter of `maxInFlight`, so one connection never
    /// holds more than that. (`GatewaySpec.clientShare` applies the same rule to a topology.)
    public static func defaultClientShare(of maxInFlight: Int) -> Int { max(1, maxInFlight / 4) }

    /// An address's share when none is given: half of `maxInFlight`, so one host never holds
    /// every slot. (`GatewaySpec.addressShare` applies the same rule to a topology.)
    public static func defaultAddressShare(of maxInFlight: Int) -> Int { max(1, maxInFlight / 2) }
}
