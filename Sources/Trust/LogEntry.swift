/// One event of the key broker's transparency log. Entries name roles, epochs, measurements
/// and key *fingerprints*, never key material, so the log can be published as is.
public enum LogEntry: Sendable, Hashable {
    case policyChange(PolicyChange)
    case keyRelease(KeyRelease)
    case refusal(Refusal)
    case epochRotation(EpochRotation)
    case weightKeyRegistration(WeightKeyRegistration)

    /// Version 2 added the key release's policy index, model digest and signing keys; entries
    /// of version 1 (written before) still decode, with those empty.
    static let formatVersion: UInt8 = 2
    static let firstFormatVersion: UInt8 = 1

    /// Longest encoded entry `init(encoded:)` accepts. The broker's store decodes every entry
    /// before writing it, so it never writes one that `sealpipe ledger verify` cannot read.
    public static let maximumEncodedBytes = 1 << 20
    /// Longest string field (UTF-8 bytes) `init(encoded:)` accepts (`CanonicalReader.string`).
    public static let maximumStringBytes = 1 << 16

    /// A (new) key-release policy took effect. The first start of a broker logs one too.
    public struct PolicyChange: Sendable, Hashable {
        /// Milliseconds since the Unix epoch.
        public var time: UInt64
        public var pipelineID: String
        /// `ReleasePolicy.canonicalBytes` of the policy in force, measurements resolved.
        public var policy: [UInt8]
        /// SHA-256 of the previous policy's canonical bytes; empty for the first.
        public var previousPolicyDigest: [UInt8]

        public init(time: UInt64, pipelineID: String, policy: [UInt8], previousPolicyDigest: [UInt8]) {
            self.time = time
            self.pipelineID = pipelineID
            self.policy = policy
            self.previousPolicyDigest = previousPolicyDigest
        }
    }

    /// A role's bundle was released to an attested node.
    public struct KeyRelease: Sendable, Hashable {
        public var time: UInt64
        public var role: String
        public var epoch: UInt64
        public var evidenceKind: String
        /// Lower-case hex of the measurement the evidence reported.
        public var measurement: String
        /// SHA-256 of the node's ephemeral public key (the bundle was sealed to it).
        public var ephemeralKeyFingerprint: [UInt8]
        /// Whether the bundle carried the role's weight-shard key.
        public var includesWeightKey: Bool
        /// Index of the policy-change entry in force when the keys were released.
        public var policyIndex: UInt64
        /// SHA-256 of the role's model shard, as the policy lists it; empty for roles without one.
        public var modelDigest: [UInt8]
        /// The role's Ed25519 signing public keys the release carried, by key epoch: what the
        /// role's receipts (and hops) signed under those epochs verify against.
        public var signingKeys: [UInt64: [UInt8]]

        public init(
            time: UInt64, role: String, epoch: UInt64, evidenceKind: String, measurement: String,
            ephemeralKeyFingerprint: [UInt8], includesWeightKey: Bool, policyIndex: UInt64 = 0,
            modelDigest: [UInt8] = [], signingKeys: [UInt64: [UInt8]] = [:]
        ) {
            self.policyIndex = policyIndex
            self.modelDigest = modelDigest
            self.signingKeys = signingKeys
            self.time = time
            self.role = role
            self.epoch = epoch
            self.evidenceKind = evidenceKind
            self.measurement = measurement
            self.ephemeralKeyFingerprint = ephemeralKeyFingerprint
            self.includesWeightKey = includesWeightKey
        }
    }

    /// A request was refused; `check` is the stable name of the check that failed.
    public struct Refusal: Sendable, Hashable {
        public var time: UInt64
        public var role: String
        public var check: String
        public var evidenceKind: String
        /// SHA-256 of the ephemeral public key presented, empty if none.
        public var ephemeralKeyFingerprint: [UInt8]
        /// A human-readable reason that carries no secret.
        public var reason: String

        public init(
            time: UInt64, role: String, check: String, evidenceKind: String, ephemeralKeyFingerprint: [UInt8],
            reason: String
        ) {
            self.time = time
            self.role = role
            self.check = check
            self.evidenceKind = evidenceKind
            self.ephemeralKeyFingerprint = ephemeralKeyFingerprint
            self.reason = reason
        }
    }

    /// A new key epoch began; each role's new public keys are named by fingerprint.
    public struct EpochRotation: Sendable, Hashable {
        public var time: UInt64
        public var epoch: UInt64
        public var startsAt: UInt64
        public var endsAt: UInt64
        /// Role name → SHA-256 of the role's box public key for this epoch.
        public var boxKeyFingerprints: [String: [UInt8]]

        public init(
            time: UInt64, epoch: UInt64, startsAt: UInt64, endsAt: UInt64, boxKeyFingerprints: [String: [UInt8]]
        ) {
            self.time = time
            self.epoch = epoch
            self.startsAt = startsAt
            self.endsAt = endsAt
            self.boxKeyFingerprints = boxKeyFingerprints
        }
    }

    /// A worker shard's weight key was registered (named by `WeightKeyID`, never by value).
    public struct WeightKeyRegistration: Sendable, Hashable {
        public var time: UInt64
        public var role: String
        public var keyID: [UInt8]

        public init(time: UInt64, role: String, keyID: [UInt8]) {
            self.time = time
            self.role = role
            self.keyID = keyID
        }
    }

    /// Stable name of the entry type, for summaries.
    public var typeName: String {
        switch self {
        case .policyChange: "policy-change"
        case .keyRelease: "key-release"
        case .refusal: "refusal"
        case .epochRotation: "epoch-rotation"
        case .weightKeyRegistration: "weight-key-registration"
        }
    }

    /// Milliseconds since the Unix epoch at which the event happened.
    public var time: UInt64 {
        switch self {
        case .policyChange(let e): e.time
        case .keyRelease(let e): e.time
        case .refusal(let e): e.time
        case .epochRotation(let e): e.time
        case .weightKeyRegistration(let e): e.time
        }
    }

    /// Canonical bytes: version u8 (2), type u8, then the fields in declaration order
    /// (integers big-endian, strings and byte strings with a u32 length, maps as a u32 count and
    /// their pairs sorted by key).
    public var encoded: [UInt8] {
        var w = CanonicalWriter()
        w.u8(Self.formatVersion)
        switch self {
        case .policyChange(let e):
            w.u8(1)
            w.u64(e.time)
            w.string(e.pipelineID)
            w.data(e.policy)
            w.data(e.previousPolicyDigest)
        case .keyRelease(let e):
            w.u8(2)
            w.u64(e.time)
            w.string(e.role)
            w.u64(e.epoch)
            w.string(e.evidenceKind)
            w.string(e.measurement)
            w.data(e.ephemeralKeyFingerprint)
            w.bool(e.includesWeightKey)
            w.u64(e.policyIndex)
            w.data(e.modelDigest)
            w.u32(UInt32(e.signingKeys.count))
            for epoch in e.signingKeys.keys.sorted() {
                w.u64(epoch)
                w.data(e.signingKeys[epoch]!)
            }
        case .refusal(let e):
            w.u8(3)
            w.u64(e.time)
            w.string(e.role)
            w.string(e.check)
            w.string(e.evidenceKind)
            w.data(e.ephemeralKeyFingerprint)
            w.string(e.reason)
        case .epochRotation(let e):
            w.u8(4)
            w.u64(e.time)
            w.u64(e.epoch)
            w.u64(e.startsAt)
            w.u64(e.endsAt)
            w.u32(UInt32(e.boxKeyFingerprints.count))
            for role in e.boxKeyFingerprints.keys.sorted() {
                w.string(role)
                w.data(e.boxKeyFingerprints[role]!)
            }
        case .weightKeyRegistration(let e):
            w.u8(5)
            w.u64(e.time)
            w.string(e.role)
            w.data(e.keyID)
        }
        return w.bytes
    }

    /// The RFC 9162 leaf hash of this entry.
    public var leafHash: [UInt8] { MerkleHash.leaf(encoded) }

    /// Decodes canonical bytes; refuses unknown versions and types and trailing bytes.
    public init(encoded bytes: [UInt8]) throws(CanonicalDecodingError) {
        guard bytes.count <= Self.maximumEncodedBytes else { throw .invalidValue(what: "entry length") }
        var r = CanonicalReader(bytes)
        let version = try r.u8("version")
        guard version == Self.formatVersion || version == Self.firstFormatVersion else {
            throw .unsupportedVersion(version)
        }
        switch try r.u8("type") {
        case 1:
            self = .policyChange(
                PolicyChange(
                    time: try r.u64("time"), pipelineID: try r.string("pipelineID"), policy: try r.data("policy"),
                    previousPolicyDigest: try r.data("previousPolicyDigest")))
        case 2:
            var release = KeyRelease(
                time: try r.u64("time"), role: try r.string("role"), epoch: try r.u64("epoch"),
                evidenceKind: try r.string("evidenceKind"), measurement: try r.string("measurement"),
                ephemeralKeyFingerprint: try r.data("ephemeralKeyFingerprint"),
                includesWeightKey: try r.bool("includesWeightKey"))
            if version >= 2 {
                release.policyIndex = try r.u64("policyIndex")
                release.modelDigest = try r.data("modelDigest")
                let count = try r.u32("signingKeys")
                for _ in 0..<count {
                    // Each pair is at least 12 bytes: a count beyond what is left is refused here,
                    // before anything is read for it.
                    guard r.remaining >= 12 else { throw .truncated(what: "signingKeys") }
                    let epoch = try r.u64("signingKeys.epoch")
                    guard release.signingKeys[epoch] == nil else {
                        throw .invalidValue(what: "signingKeys (repeated epoch)")
                    }
                    release.signingKeys[epoch] = try r.data("signingKeys.key")
                }
            }
            self = .keyRelease(release)
        case 3:
            self = .refusal(
                Refusal(
                    time: try r.u64("time"), role: try r.string("role"), check: try r.string("check"),
                    evidenceKind: try r.string("evidenceKind"),
                    ephemeralKeyFingerprint: try r.data("ephemeralKeyFingerprint"), reason: try r.string("reason")))
        case 4:
            let time = try r.u64("time")
            let epoch = try r.u64("epoch")
            let startsAt = try r.u64("startsAt")
            let endsAt = try r.u64("endsAt")
            let count = try r.u32("boxKeyFingerprints")
            var fingerprints: [String: [UInt8]] = [:]
            for _ in 0..<count {
                guard r.remaining > 0 else { throw .truncated(what: "boxKeyFingerprints") }
                let role = try r.string("role")
                fingerprints[role] = try r.data("fingerprint")
            }
            self = .epochRotation(
                EpochRotation(
                    time: time, epoch: epoch, startsAt: startsAt, endsAt: endsAt, boxKeyFingerprints: fingerprints))
        case 5:
            self = .weightKeyRegistration(
                WeightKeyRegistration(time: try r.u64("time"), role: try r.string("role"), keyID: try r.data("keyID")))
        default:
            throw .invalidValue(what: "type")
        }
        try r.finish()
    }
}
