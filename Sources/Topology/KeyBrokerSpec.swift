/// The key broker (KMS): where it listens, where it keeps its state, which platform keys it
/// trusts for simulated evidence, and how often role keys rotate.
///
/// Paths are kept as written; relative ones are relative to the directory in which
/// `sealpipe launch` runs (the processes it starts inherit it).
public struct KeyBrokerSpec: Sendable, Hashable {
    public let host: String
    /// Where the broker binds; see `Topology.keyBrokerEndpoint` for the connect form.
    public let endpoint: Endpoint
    /// The broker's durable state (transparency log, epochs): an SQLite file.
    public let statePath: String
    /// The broker's root key file (its signing identity, pinned by clients).
    public let rootKeyPath: String
    /// Public keys of the simulated TEE platforms whose evidence the broker trusts.
    public let platformKeyPaths: [String]
    /// How long a key epoch lasts before the broker rotates role keys.
    public let epoch: Duration
    /// How long a stage keeps accepting the previous epoch after a rotation.
    public let grace: Duration
    /// How long a signed pipeline manifest is valid.
    public let manifestTTL: Duration
    public let metrics: MetricsAddress
    /// The offline collateral cache (`sealpipe collateral import`) the broker verifies TDX with.
    public let collateralPath: String

    public init(
        host: String, endpoint: Endpoint, statePath: String, rootKeyPath: String, platformKeyPaths: [String],
        epoch: Duration, grace: Duration, manifestTTL: Duration, metrics: MetricsAddress, collateralPath: String
    ) {
        self.collateralPath = collateralPath
        self.host = host
        self.endpoint = endpoint
        self.statePath = statePath
        self.rootKeyPath = rootKeyPath
        self.platformKeyPaths = platformKeyPaths
        self.epoch = epoch
        self.grace = grace
        self.manifestTTL = manifestTTL
        self.metrics = metrics
    }
}
