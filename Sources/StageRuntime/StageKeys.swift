public import Sodium

/// The keys a stage replica holds after attestation: everything it needs to open its hops,
/// prove who sent its output, and seal that output to the next role.
public struct StageKeys: Sendable {
    /// This stage's role.
    public var role: String
    /// Its index among the stages in pipeline order: the `hop` of the hops it receives.
    public var position: UInt16
    /// Its box key pairs by epoch: the current one and, during grace, the previous one.
    public var boxKeys: [UInt32: BoxKeyPair]
    /// Its signing key: receivers check that hops came from this role.
    public var signing: SigningKeyPair
    /// The role the topology routes from, with its signing key; `nil` for the front stage,
    /// whose input comes from anonymous clients through the gateway.
    public var upstream: (role: String, signingKey: SigningPublicKey)?
    /// The role to seal output to, its current epoch and key; `nil` for the last stage, which
    /// seals results to each client's reply key.
    public var downstream: (role: String, epoch: UInt32, boxKey: BoxPublicKey)?

    public init(
        role: String, position: UInt16, boxKeys: [UInt32: BoxKeyPair], signing: SigningKeyPair,
        upstream: (role: String, signingKey: SigningPublicKey)?, downstream: (role: String, epoch: UInt32, boxKey: BoxPublicKey)?
    ) {
        self.role = role
        self.position = position
        self.boxKeys = boxKeys
        self.signing = signing
        self.upstream = upstream
        self.downstream = downstream
    }

    /// Epochs this stage can open, newest first.
    public var epochs: [UInt32] { boxKeys.keys.sorted(by: >) }
}
