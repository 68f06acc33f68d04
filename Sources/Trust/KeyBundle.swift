public import Sodium

/// Everything one role needs to run, released by the broker only after attestation and
/// sealed to the node's ephemeral key. Secrets live in `SecureBytes` end to end.
public struct KeyBundle: Sendable {
    static let magic = Array("sealpipe-bundle-v1".utf8)

    public var role: String
    public var pipelineID: String
    public var schedule: EpochSchedule
    /// The role's box key pairs: the current epoch first, then the previous one during its grace period.
    public var boxKeys: [EpochKeyPair]
    /// The role's signing key pair (signs everything it sends on).
    public var signingKeys: SigningKeyPair
    /// Public keys of the roles this one receives from and sends to.
    public var neighbours: [NeighbourKeys]
    /// The 32-byte key of this role's sealed weight shard (workers only).
    public var weightKey: SecureBytes?

    public init(
        role: String, pipelineID: String, schedule: EpochSchedule, boxKeys: [EpochKeyPair], signingKeys: SigningKeyPair,
        neighbours: [NeighbourKeys], weightKey: SecureBytes?
    ) {
        self.role = role
        self.pipelineID = pipelineID
        self.schedule = schedule
        self.boxKeys = boxKeys
        self.signingKeys = signingKeys
        self.neighbours = neighbours
        self.weightKey = weightKey
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
        w.secret(signingKeys.secretKey.secret)
        w.u32(UInt32(neighbours.count))
        for neighbour in neighbours {
            w.string(neighbour.role)
            w.data(neighbour.signingKey.bytes)
            w.u32(UInt32(neighbour.boxKeys.count))
            for key in neighbour.boxKeys {
                w.u64(key.epoch)
                w.data(key.key.bytes)
            }
        }
        w.bool(weightKey != nil)
        if let weightKey { w.secret(weightKey) }
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
        guard let signingSecret = try? SigningSecretKey(secret: try r.secret("signingKey")) else {
            throw .invalidValue(what: "signingKey")
        }
        var neighbours: [NeighbourKeys] = []
        let neighbourCount = try r.u32("neighbours")
        guard neighbourCount <= 1024 else { throw .invalidValue(what: "neighbours") }
        for _ in 0..<neighbourCount {
            let name = try r.string("neighbours.role")
            guard let signingKey = try? SigningPublicKey(bytes: try r.data("neighbours.signingKey")) else {
                throw .invalidValue(what: "neighbours.signingKey")
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
            neighbours.append(NeighbourKeys(role: name, signingKey: signingKey, boxKeys: keys))
        }
        let weightKey: SecureBytes? = try r.bool("hasWeightKey") ? try r.secret("weightKey") : nil
        if let weightKey, weightKey.count != XChaCha20Poly1305.keyByteCount { throw .invalidValue(what: "weightKey") }
        try r.finish()
        return KeyBundle(
            role: role, pipelineID: pipelineID, schedule: schedule, boxKeys: boxKeys,
            signingKeys: SigningKeyPair(secretKey: signingSecret), neighbours: neighbours, weightKey: weightKey)
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

/// A neighbour role's public keys: verify what it signs, seal what is sent to it.
public struct NeighbourKeys: Sendable, Hashable {
    public var role: String
    public var signingKey: SigningPublicKey
    /// Current epoch first, then the previous one during grace.
    public var boxKeys: [EpochPublicKey]

    public init(role: String, signingKey: SigningPublicKey, boxKeys: [EpochPublicKey]) {
        self.role = role
        self.signingKey = signingKey
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
