public import Sodium
public import Wire

/// The keys a stage replica holds after attestation: everything it needs to open its hops,
/// prove who sent its output, seal that output to the next role, and prove its role to the
/// gateway.
///
/// Keys come per key epoch — the current one and, during grace, the previous one — and a job
/// keeps the epoch its client sealed it under from stage to stage: a hop under epoch `e` is
/// opened with this role's `e` box key, its sender checked with the upstream's `e` signing key,
/// and the output sealed to the next role's `e` key and signed with this role's `e` key.
public struct StageKeys: Sendable {
    /// This stage's role.
    public var role: String
    /// Its index among the stages in pipeline order: the `hop` of the hops it receives.
    public var position: UInt16
    /// Its box key pairs by epoch.
    public var boxKeys: [UInt32: BoxKeyPair]
    /// Its signing key pairs by epoch: receivers check that hops came from this role.
    public var signing: [UInt32: SigningKeyPair]
    /// The broker's certificate for the current epoch's signing key, shown to the gateway in
    /// every announcement.
    public var certificate: RoleCertificate
    /// The role the topology routes from, with its signing keys by epoch; `nil` for the front
    /// stage, whose input comes from anonymous clients through the gateway.
    public var upstream: (role: String, signingKeys: [UInt32: SigningPublicKey])?
    /// The role to seal output to, with its box keys by epoch; `nil` for the last stage, which
    /// seals results to each client's reply key.
    public var downstream: (role: String, boxKeys: [UInt32: BoxPublicKey])?
    /// What this stage's receipts name: the pipeline, the log index of the key release these
    /// keys came in, and the model shard the policy lists for the role (empty if none).
    public var receiptContext: ReceiptContext

    /// The release facts a stage's receipts carry beside its signature.
    public struct ReceiptContext: Sendable, Equatable {
        public var pipelineID: String
        public var releaseIndex: UInt64
        public var shardDigest: [UInt8]

        public init(pipelineID: String, releaseIndex: UInt64, shardDigest: [UInt8]) {
            self.pipelineID = pipelineID
            self.releaseIndex = releaseIndex
            self.shardDigest = shardDigest
        }
    }

    public init(
        role: String, position: UInt16, boxKeys: [UInt32: BoxKeyPair], signing: [UInt32: SigningKeyPair],
        certificate: RoleCertificate, upstream: (role: String, signingKeys: [UInt32: SigningPublicKey])?,
        downstream: (role: String, boxKeys: [UInt32: BoxPublicKey])?,
        receiptContext: ReceiptContext = ReceiptContext(pipelineID: "", releaseIndex: 0, shardDigest: [])
    ) {
        self.receiptContext = receiptContext
        self.role = role
        self.position = position
        self.boxKeys = boxKeys
        self.signing = signing
        self.certificate = certificate
        self.upstream = upstream
        self.downstream = downstream
    }

    /// Epochs this stage can open, newest first.
    public var epochs: [UInt32] { boxKeys.keys.sorted(by: >) }

    /// The keys without those of `epoch`: what is left when its grace period ends.
    public func forgetting(epoch: UInt32) -> StageKeys {
        var copy = self
        copy.boxKeys[epoch] = nil
        copy.signing[epoch] = nil
        copy.upstream?.signingKeys[epoch] = nil
        copy.downstream?.boxKeys[epoch] = nil
        return copy
    }
}
