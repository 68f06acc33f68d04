public import Sodium

/// What a client fetches before it seals anything: where the pipeline starts, which key to
/// seal to, who signs results, and the policy in force — summarised per role (which evidence
/// protects it) and in full, with proof the policy is in the log. Signed by the broker's
/// identity key over `signedBytes`.
public struct PipelineManifest: Sendable, Hashable, Codable {
    /// Version 2 added the policy summary and the epoch bound on `expiresAt`; version 3 each
    /// role's shard digest and the model version.
    public static let currentVersion: UInt8 = 3

    public var version: UInt8
    public var pipelineID: String
    /// The role a client's request is sealed to (the first attested stage).
    public var frontRole: String
    /// The front role's box public key for the current epoch.
    public var frontKey: EpochPublicKey
    /// The previous epoch's front key while its grace period lasts.
    public var previousFrontKey: EpochPublicKey?
    /// The role whose signature results carry (the postprocessor).
    public var resultRole: String
    /// That role's signing key: a result not signed by it is refused.
    public var resultSigner: SigningPublicKey
    /// SHA-256 of the canonical policy in force.
    public var policyDigest: [UInt8]
    /// The policy-change log entry (canonical bytes) that put this policy in force.
    public var policyEntry: [UInt8]
    public var policyEntryIndex: UInt64
    /// A signed tree head that contains the policy entry.
    public var treeHead: SignedTreeHead
    /// Inclusion proof of `policyEntry` at `policyEntryIndex` under `treeHead`.
    public var policyInclusionProof: [[UInt8]]
    /// Milliseconds since the Unix epoch.
    public var issuedAt: UInt64
    /// Never later than `epochEndsAt + graceMilliseconds`: a manifest does not outlive the
    /// front key it names.
    public var expiresAt: UInt64
    /// When the front key's epoch ends (ms since the Unix epoch).
    public var epochEndsAt: UInt64
    /// How long after its epoch's end a key is still held (requests sealed to it still open).
    public var graceMilliseconds: UInt64
    /// What the policy in force demands of each role (`RolePolicySummary.summaries(of:)` of the
    /// logged policy), sorted by role.
    public var policySummary: [RolePolicySummary]
    /// The model version the pipeline serves: `RolePolicySummary.modelVersion(of: policySummary)`.
    public var modelVersion: String
    /// Ed25519 signature by the broker identity key over `signedBytes`.
    public var signature: [UInt8]

    public init(
        version: UInt8 = PipelineManifest.currentVersion, pipelineID: String, frontRole: String,
        frontKey: EpochPublicKey,
        previousFrontKey: EpochPublicKey?, resultRole: String, resultSigner: SigningPublicKey, policyDigest: [UInt8],
        policyEntry: [UInt8],
        policyEntryIndex: UInt64, treeHead: SignedTreeHead, policyInclusionProof: [[UInt8]], issuedAt: UInt64,
        expiresAt: UInt64, epochEndsAt: UInt64, graceMilliseconds: UInt64, policySummary: [RolePolicySummary],
        modelVersion: String? = nil, signature: [UInt8] = []
    ) {
        self.modelVersion = modelVersion ?? RolePolicySummary.modelVersion(of: policySummary)
        self.version = version
        self.pipelineID = pipelineID
        self.frontRole = frontRole
        self.frontKey = frontKey
        self.previousFrontKey = previousFrontKey
        self.resultRole = resultRole
        self.resultSigner = resultSigner
        self.policyDigest = policyDigest
        self.policyEntry = policyEntry
        self.policyEntryIndex = policyEntryIndex
        self.treeHead = treeHead
        self.policyInclusionProof = policyInclusionProof
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.epochEndsAt = epochEndsAt
        self.graceMilliseconds = graceMilliseconds
        self.policySummary = policySummary
        self.signature = signature
    }

    /// Every field but the signature, canonically encoded after the ASCII context `sealpipe-manifest-v3`
    /// (the layout is in `docs/protocol.md` §5.1).
    public var signedBytes: [UInt8] {
        var w = CanonicalWriter()
        w.fixed(Array("sealpipe-manifest-v3".utf8))
        w.u8(version)
        w.string(pipelineID)
        w.string(frontRole)
        w.u64(frontKey.epoch)
        w.data(frontKey.key.bytes)
        w.bool(previousFrontKey != nil)
        w.u64(previousFrontKey?.epoch ?? 0)
        w.data(previousFrontKey?.key.bytes ?? [])
        w.string(resultRole)
        w.data(resultSigner.bytes)
        w.data(policyDigest)
        w.data(policyEntry)
        w.u64(policyEntryIndex)
        w.u64(treeHead.treeSize)
        w.data(treeHead.rootHash)
        w.u64(treeHead.timestamp)
        w.data(treeHead.signature)
        w.u32(UInt32(policyInclusionProof.count))
        for element in policyInclusionProof { w.data(element) }
        w.u64(issuedAt)
        w.u64(expiresAt)
        w.u64(epochEndsAt)
        w.u64(graceMilliseconds)
        w.u32(UInt32(policySummary.count))
        for role in policySummary { role.write(to: &w) }
        w.string(modelVersion)
        return w.bytes
    }

    /// Returns a copy signed by the broker identity key.
    public func signed(with key: SigningKeyPair) -> PipelineManifest {
        var copy = self
        copy.signature = key.signature(for: signedBytes)
        return copy
    }

    /// The roles whose policy accepts simulated evidence, in the manifest's order: a client
    /// refuses such a pipeline unless its user allowed simulated evidence explicitly.
    public var rolesAcceptingSimulatedEvidence: [String] {
        policySummary.filter(\.acceptsSimulatedEvidence).map(\.role)
    }
}

/// A box public key together with the key epoch it belongs to.
public struct EpochPublicKey: Sendable, Hashable, Codable {
    public var epoch: UInt64
    public var key: BoxPublicKey

    public init(epoch: UInt64, key: BoxPublicKey) {
        self.epoch = epoch
        self.key = key
    }
}
