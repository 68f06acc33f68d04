public import Sodium
public import Wire

/// Everything one role needs to run, released by the broker only after attestation and
/// sealed to the node's ephemeral key. Secrets live in `SecureBytes` end to end.
public struct KeyBundle: Sendable {
    static let magic = Array("sealpipe-bundle-v3".utf8)

    public var role: String
    public var pipelineID: String
    public var schedule: EpochSchedule
    /// The role's box key pairs: the current epoch first, then the previous one during its grace period.
    public var boxKeys: [EpochKeyPair]
    /// The role's signing key pairs, one per epoch like `boxKeys` (current first): a hop sealed
    /// under an epoch is signed with that epoch's key, so signing keys rotate with the epoch.
    public var signingKeys: [EpochSigningKeyPair]
    /// Public keys of the roles this one receives from and sends to.
    public var neighbours: [NeighbourKeys]
    /// The 32-byte key of this role's sealed weight shard (workers only).
    public var weightKey: SecureBytes?
    /// The broker's certificate for the current epoch's signing key: the replica's proof of its
    /// role to the gateway.
    public var certificate: RoleCertificate
    /// Index in the broker's log of the key-release entry for this very bundle (which names its
    /// signing keys): what the role's receipts cite. Set once the release is logged.
    public var releaseIndex: UInt64
    /// SHA-256 of the role's model shard as the policy lists it (empty for roles without one):
    /// the node refuses to serve a shard whose decrypted content hashes to anything else.
    public var shardDigest: [UInt8]

    public init(
        role: String, pipelineID: String, schedule: EpochSchedule, boxKeys: [EpochKeyPair],
        signingKeys: [EpochSigningKeyPair], neighbours: [NeighbourKeys], weightKey: SecureBytes?,
        certificate: RoleCertificate, releaseIndex: UInt64 = 0, shardDigest: [UInt8] = []
    ) {
        self.releaseIndex = releaseIndex
        self.shardDigest = shardDigest
        self.role = role
        self.pipelineID = pipelineID
        self.schedule = schedule
        self.boxKeys = boxKeys
        self.signingKeys = signingKeys
        self.neighbours = neighbours
        self.weightKey = weightKey
        self.certificate = certificate
    }

    /// The role's signing key pair for `epoch`, if the bundle holds it.
    public func signingKeyPair(epoch: UInt64) -> SigningKeyPair? {
        signingKeys.first { $0.epoch == epoch }?.keyPair
    }

    /// Checks the certificate against the broker's pinned identity: signed by it, for this
    /// bundle's pipeline, role and current epoch, and naming this epoch's signing key. `nil`
    /// when it holds; otherwise what is wrong.
    public func certificateProblem(pinnedBrokerKey: SigningPublicKey) -> String? {
        guard certificate.hasValidSignature(by: pinnedBrokerKey) else {
            return "the role certificate is not signed by the pinned key broker"
        }
        guard certificate.pipelineID == pipelineID, certificate.role == role,
            UInt64(certificate.epoch) == schedule.epoch
        else {
            return "the role certificate names \(certificate.role) of \(certificate.pipelineID) in epoch "
                + "\(certificate.epoch), not \(role) of \(pipelineID) in epoch \(schedule.epoch)"
        }
        guard let current = signingKeyPair(epoch: schedule.epoch), certificate.signingKey == current.publicKey.bytes
        else {
            return "the role certificate does not name the bundle's signing key for epoch \(schedule.epoch)"
        }
        return nil
    }

    /// The role's box key pair for `epoch`, if the bundle holds it.
    public func boxKeyPair(epoch: UInt64) -> BoxKeyPair? {
        boxKeys.first { $0.epoch == epoch }?.keyPair
    }

    /// The neighbour entry for `role`.
    public func neighbour(_ role: String) -> NeighbourKeys? {
        neighbours.first { $0.role == role }
    }

    /// Binary form: magic, then fields in declaration order (u64 big-endian, u32-length-prefixed
    /// strings, byte strings and secrets). Built directly in secure memory.
    public func encoded() -> SecureBytes {
        var w = SecureCanonicalWriter()
        for byte in Self.magic { w.u8(byte) }
        w.string(role)
        w.string(pipelineID)
        w.u64(schedule.epoch)
        w.u64(schedule.startsAt)
        w.u64(schedule.endsAt)
        w.u64(schedule.graceMilliseconds)
        w.u32(UInt32(boxKeys.count))
        for pair in boxKeys {
            w.u64(pair.epoch)
            w.secret(pair.keyPair.secretKey.secret)
        }
        w.u32(UInt32(signingKeys.count))
        for pair in signingKeys {
            w.u64(pair.epoch)
            w.secret(pair.keyPair.secretKey.secret)
        }
        w.u32(UInt32(neighbours.count))
        for neighbour in neighbours {
            w.string(neighbour.role)
            w.u32(UInt32(neighbour.signingKeys.count))
            for key in neighbour.signingKeys {
                w.u64(key.epoch)
                w.data(key.key.bytes)
            }
            w.u32(UInt32(neighbour.boxKeys.count))
            for key in neighbour.boxKeys {
                w.u64(key.epoch)
                w.data(key.key.bytes)
            }
        }
        w.bool(weightKey != nil)
        if let weightKey { w.secret(weightKey) }
        w.data(certificate.encoded())
        w.u64(releaseIndex)
        w.data(shardDigest)
        return w.finish()
    }

    /// Decodes `encoded()`; secrets go straight from `bytes` into new `SecureBytes`.
    public init(decoding bytes: SecureBytes) throws(KeyBundleError) {
        do {
            self = try bytes.withUnsafeBytes { buffer in try Self.parse(buffer) }
        } catch let error as CanonicalDecodingError {
            throw .malformed(error)
        } catch {
            throw .malformed(.invalidValue(what: "bundle"))
        }
    }

    private static func parse(_ buffer: UnsafeRawBufferPointer) throws(CanonicalDecodingError) -> KeyBundle {
        var r = SecureCanonicalReader(buffer)
        for byte in Self.magic {
            guard try r.u8("magic") == byte else { throw .invalidValue(what: "magic") }
        }
        let role = try r.string("role")
        let pipelineID = try r.string("pipelineID")
        let schedule = EpochSchedule(
            epoch: try r.u64("epoch"), startsAt: try r.u64("startsAt"), endsAt: try r.u64("endsAt"),
            graceMilliseconds: try r.u64("graceMilliseconds"))
        var boxKeys: [EpochKeyPair] = []
        let boxCount = try r.u32("boxKeys")
        guard boxCount <= 16 else { throw .invalidValue(what: "boxKeys") }
        for _ in 0..<boxCount {
            let epoch = try r.u64("boxKeys.epoch")
            guard let secret = try? BoxSecretKey(secret: try r.secret("boxKeys.secret")) else {
                throw .invalidValue(what: "boxKeys.secret")
            }
            boxKeys.append(EpochKeyPair(epoch: epoch, keyPair: BoxKeyPair(secretKey: secret)))
        }
        var signingKeys: [EpochSigningKeyPair] = []
        let signingCount = try r.u32("signingKeys")
        guard signingCount <= 16 else { throw .invalidValue(what: "signingKeys") }
        for _ in 0..<signingCount {
            let epoch = try r.u64("signingKeys.epoch")
            guard let secret = try? SigningSecretKey(secret: try r.secret("signingKeys.secret")) else {
                throw .invalidValue(what: "signingKeys.secret")
            }
            signingKeys.append(EpochSigningKeyPair(epoch: epoch, keyPair: SigningKeyPair(secretKey: secret)))
        }
        var neighbours: [NeighbourKeys] = []
        let neighbourCount = try r.u32("neighbours")
        guard neighbourCount <= 1024 else { throw .invalidValue(what: "neighbours") }
        for _ in 0..<neighbourCount {
            let name = try r.string("neighbours.role")
            var signingKeys: [EpochSigningPublicKey] = []
            let signingCount = try r.u32("neighbours.signingKeys")
            guard signingCount <= 16 else { throw .invalidValue(what: "neighbours.signingKeys") }
            for _ in 0..<signingCount {
                let epoch = try r.u64("neighbours.signingKeys.epoch")
                guard let key = try? SigningPublicKey(bytes: try r.data("neighbours.signingKeys.key")) else {
                    throw .invalidValue(what: "neighbours.signingKeys.key")
                }
                signingKeys.append(EpochSigningPublicKey(epoch: epoch, key: key))
            }
            var keys: [EpochPublicKey] = []
            let keyCount = try r.u32("neighbours.boxKeys")
            guard keyCount <= 16 else { throw .invalidValue(what: "neighbours.boxKeys") }
            for _ in 0..<keyCount {
                let epoch = try r.u64("neighbours.boxKeys.epoch")
                guard let key = try? BoxPublicKey(bytes: try r.data("neighbours.boxKeys.key")) else {
                    throw .invalidValue(what: "neighbours.boxKeys.key")
                }
                keys.append(EpochPublicKey(epoch: epoch, key: key))
            }
            neighbours.append(NeighbourKeys(role: name, signingKeys: signingKeys, boxKeys: keys))
        }
        let weightKey: SecureBytes? = try r.bool("hasWeightKey") ? try r.secret("weightKey") : nil
        if let weightKey, weightKey.count != XChaCha20Poly1305.keyByteCount { throw .invalidValue(what: "weightKey") }
        guard let certificate = try? RoleCertificate(decoding: try r.data("certificate")) else {
            throw .invalidValue(what: "certificate")
        }
        let releaseIndex = try r.u64("releaseIndex")
        let shardDigest = try r.data("shardDigest")
        guard shardDigest.isEmpty || shardDigest.count == 32 else { throw .invalidValue(what: "shardDigest") }
        try r.finish()
        return KeyBundle(
            role: role, pipelineID: pipelineID, schedule: schedule, boxKeys: boxKeys, signingKeys: signingKeys,
            neighbours: neighbours, weightKey: weightKey, certificate: certificate, releaseIndex: releaseIndex,
            shardDigest: shardDigest)
    }

    /// Seals the encoded bundle to a node's ephemeral key.
    public func sealed(to ephemeralKey: BoxPublicKey) throws(SodiumError) -> [UInt8] {
        try SealedBox.seal(encoded(), to: ephemeralKey)
    }

    /// Opens a bundle sealed with `sealed(to:)`.
    public static func open(_ sealed: [UInt8], with ephemeral: BoxKeyPair) throws(KeyBundleError) -> KeyBundle {
        let plaintext: SecureBytes
        do { plaintext = try SealedBox.open(sealed, with: ephemeral) } catch { throw .couldNotOpen }
        return try KeyBundle(decoding: plaintext)
    }
}

/// Why a key bundle was not usable.
public enum KeyBundleError: Error, Equatable, Sendable {
    case couldNotOpen
    case malformed(CanonicalDecodingError)
}

/// A box key pair together with its key epoch.
public struct EpochKeyPair: Sendable {
    public var epoch: UInt64
    public var keyPair: BoxKeyPair

    public init(epoch: UInt64, keyPair: BoxKeyPair) {
        self.epoch = epoch
        self.keyPair = keyPair
    }
}

/// A signing key pair together with its key epoch.
public struct EpochSigningKeyPair: Sendable {
    public var epoch: UInt64
    public var keyPair: SigningKeyPair

    public init(epoch: UInt64, keyPair: SigningKeyPair) {
        self.epoch = epoch
        self.keyPair = keyPair
    }
}

/// A signing public key together with its key epoch.
public struct EpochSigningPublicKey: Sendable, Hashable {
    public var epoch: UInt64
    public var key: SigningPublicKey

    public init(epoch: UInt64, key: SigningPublicKey) {
        self.epoch = epoch
        self.key = key
    }
}

/// A neighbour role's public keys: verify what it signs, seal what is sent to it.
public struct NeighbourKeys: Sendable, Hashable {
    public var role: String
    /// Its signing keys by epoch: current first, then the previous one during grace.
    public var signingKeys: [EpochSigningPublicKey]
    /// Current epoch first, then the previous one during grace.
    public var boxKeys: [EpochPublicKey]

    public init(role: String, signingKeys: [EpochSigningPublicKey], boxKeys: [EpochPublicKey]) {
        self.role = role
        self.signingKeys = signingKeys
        self.boxKeys = boxKeys
    }
}

/// The key-epoch schedule as the broker sees it when it releases a bundle (ms since the Unix epoch).
public struct EpochSchedule: Sendable, Hashable, Codable {
    public var epoch: UInt64
    public var startsAt: UInt64
    public var endsAt: UInt64
    /// How long after `endsAt` the previous epoch's keys stay valid.
    public var graceMilliseconds: UInt64

    public init(epoch: UInt64, startsAt: UInt64, endsAt: UInt64, graceMilliseconds: UInt64) {
        self.epoch = epoch
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.graceMilliseconds = graceMilliseconds
    }
}
