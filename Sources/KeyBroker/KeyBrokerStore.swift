public import Foundation
import GRDB
public import Sodium
import Synchronization
public import Trust

/// The broker's durable state in SQLite: identity key, role keys per epoch, weight keys, the
/// epochs, the transparency log and its signed tree heads.
///
/// Every secret is sealed with XChaCha20-Poly1305 under the root key (associated data = the
/// secret's name, so sealed values cannot be swapped between rows) and is decrypted straight
/// into `SecureBytes`. Log entries, tree heads and the identity *public* key are stored in
/// the clear, so `sealpipe ledger verify` can check a log without the root key. Each change
/// is one SQLite transaction, so a SIGKILL loses nothing that was acknowledged.
public final class KeyBrokerStore: Sendable {
    private let database: DatabaseQueue
    private let rootKey: SecureBytes
    /// Leaf hashes of the log, cached so appends and proofs do not reread the whole table.
    private let tree = Mutex(MerkleTree())

    /// Opens (creating if needed) the state at `path`, sealed under `rootKey`.
    public init(path: String, rootKey: SecureBytes) throws {
        guard rootKey.count == RootKey.byteCount else {
            throw KeyBrokerError.rootKeyUnreadable(path: path, reason: "root key must be 32 bytes")
        }
        self.rootKey = rootKey
        var configuration = Configuration()
        // `sealpipe model seal` may register weight keys while the broker runs: wait for its lock.
        configuration.busyMode = .timeout(10)
        database = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
        try refreshTree()
        // Fail at start, not at first request, if the root key is not the one that sealed the state.
        if try database.read({ db in try Row.fetchOne(db, sql: "SELECT 1 FROM secrets LIMIT 1") }) != nil {
            _ = try identity()
        }
    }

    /// Opens the state at `path` with the root key read from `rootKeyPath` (mode 0600 enforced).
    public convenience init(path: String, rootKeyPath: String) throws {
        try self.init(path: path, rootKey: try RootKey.load(from: rootKeyPath))
    }

    private static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
                    CREATE TABLE secrets (name TEXT PRIMARY KEY NOT NULL, public BLOB, sealed BLOB NOT NULL);
                    CREATE TABLE epochs (epoch INTEGER PRIMARY KEY NOT NULL, starts_at INTEGER NOT NULL, ends_at INTEGER NOT NULL);
                    CREATE TABLE log_entries (idx INTEGER PRIMARY KEY NOT NULL, entry BLOB NOT NULL, leaf_hash BLOB NOT NULL);
                    CREATE TABLE tree_heads (tree_size INTEGER PRIMARY KEY NOT NULL, root BLOB NOT NULL,
                        timestamp INTEGER NOT NULL, signature BLOB NOT NULL);
                    """)
        }
        return migrator
    }

    // MARK: Secrets

    private func seal(_ secret: SecureBytes, name: String) -> [UInt8] {
        let nonce = SecureRandom.bytes(XChaCha20Poly1305.nonceByteCount)
        return nonce
            + XChaCha20Poly1305.seal(secret, key: rootKey, nonce: nonce, associatedData: Self.secretContext(name))
    }

    private func unseal(_ sealed: [UInt8], name: String) throws -> SecureBytes {
        guard sealed.count > XChaCha20Poly1305.nonceByteCount else {
            throw KeyBrokerError.storeCorrupt("secret \(name) too short")
        }
        do {
            return try XChaCha20Poly1305.open(
                Array(sealed[XChaCha20Poly1305.nonceByteCount...]), key: rootKey,
                nonce: Array(sealed[..<XChaCha20Poly1305.nonceByteCount]), associatedData: Self.secretContext(name))
        } catch {
            throw KeyBrokerError.couldNotDecryptSecret(name)
        }
    }

    private static func secretContext(_ name: String) -> [UInt8] { Array("sealpipe-kms-secret-v1:\(name)".utf8) }

    private func readSecret(_ db: Database, _ name: String) throws -> (public: [UInt8]?, secret: SecureBytes)? {
        guard
            let row = try Row.fetchOne(db, sql: "SELECT public, sealed FROM secrets WHERE name = ?", arguments: [name])
        else {
            return nil
        }
        let publicBytes = (row["public"] as Data?).map { [UInt8]($0) }
        let sealed: Data = row["sealed"]
        return (publicBytes, try unseal([UInt8](sealed), name: name))
    }

    private func writeSecret(_ db: Database, _ name: String, public publicBytes: [UInt8]?, secret: SecureBytes) throws {
        try db.execute(
            sql: "INSERT INTO secrets (name, public, sealed) VALUES (?, ?, ?)",
            arguments: [name, publicBytes.map { Data($0) }, Data(seal(secret, name: name))])
    }

    /// The broker's Ed25519 identity (signs tree heads and manifests); made on first use.
    public func identity() throws -> SigningKeyPair {
        try database.write { db in try identity(db) }
    }

    private func identity(_ db: Database) throws -> SigningKeyPair {
        if let stored = try readSecret(db, "identity") {
            let pair = SigningKeyPair(secretKey: try SigningSecretKey(secret: stored.secret))
            guard stored.public == pair.publicKey.bytes else { throw KeyBrokerError.identityMismatch }
            return pair
        }
        let pair = SigningKeyPair.generate()
        try writeSecret(db, "identity", public: pair.publicKey.bytes, secret: pair.secretKey.secret)
        try setMeta(db, "identity-public", pair.publicKey.bytes)
        return pair
    }

    /// The role's signing key pair for `epoch`; made on first use. Erased with the epoch's box
    /// keys, so signing keys rotate with the epoch.
    public func signingKeyPair(role: String, epoch: UInt64) throws -> SigningKeyPair {
        try database.write { db in
            let name = "signing:\(role):\(epoch)"
            if let stored = try readSecret(db, name) {
                return SigningKeyPair(secretKey: try SigningSecretKey(secret: stored.secret))
            }
            let pair = SigningKeyPair.generate()
            try writeSecret(db, name, public: pair.publicKey.bytes, secret: pair.secretKey.secret)
            return pair
        }
    }

    /// The role's box key pair for `epoch`, if that epoch's keys are still held.
    public func boxKeyPair(role: String, epoch: UInt64) throws -> BoxKeyPair? {
        try database.read { db in
            guard let stored = try readSecret(db, "box:\(role):\(epoch)") else { return nil }
            return BoxKeyPair(secretKey: try BoxSecretKey(secret: stored.secret))
        }
    }

    /// The stored key epochs, oldest first.
    public func epochs() throws -> [EpochRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT epoch, starts_at, ends_at FROM epochs ORDER BY epoch").map {
                EpochRecord(
                    epoch: UInt64($0["epoch"] as Int64), startsAt: UInt64($0["starts_at"] as Int64),
                    endsAt: UInt64($0["ends_at"] as Int64))
            }
        }
    }

    /// Starts `epoch`: new box key pairs for `roles`, the epoch row, and an epoch-rotation log
    /// entry, all in one transaction. Box and signing secrets of epochs before `epoch - 1` are erased.
    @discardableResult
    public func beginEpoch(_ record: EpochRecord, roles: [String], now: UInt64) throws -> [String: BoxPublicKey] {
        try database.write { db in
            var fingerprints: [String: [UInt8]] = [:]
            var publicKeys: [String: BoxPublicKey] = [:]
            for role in roles {
                let pair = BoxKeyPair.generate()
                try writeSecret(
                    db, "box:\(role):\(record.epoch)", public: pair.publicKey.bytes, secret: pair.secretKey.secret)
                fingerprints[role] = SHA256.hash(pair.publicKey.bytes)
                publicKeys[role] = pair.publicKey
            }
            try db.execute(
                sql: "INSERT INTO epochs (epoch, starts_at, ends_at) VALUES (?, ?, ?)",
                arguments: [Int64(record.epoch), Int64(record.startsAt), Int64(record.endsAt)])
            if record.epoch >= 2 {
                for row in try Row.fetchAll(
                    db, sql: "SELECT epoch FROM epochs WHERE epoch < ?", arguments: [Int64(record.epoch - 1)])
                {
                    let old: Int64 = row["epoch"]
                    try db.execute(sql: "DELETE FROM secrets WHERE name LIKE ?", arguments: ["box:%:\(old)"])
                    try db.execute(sql: "DELETE FROM secrets WHERE name LIKE ?", arguments: ["signing:%:\(old)"])
                }
            }
            _ = try append(
                db,
                .epochRotation(
                    .init(
                        time: now, epoch: record.epoch, startsAt: record.startsAt, endsAt: record.endsAt,
                        boxKeyFingerprints: fingerprints)),
                now: now)
            return publicKeys
        }
    }

    // MARK: Weight keys

    /// Makes and stores a new 32-byte weight-shard key for `role` and logs its registration
    /// (by key id). Refuses if the role already has one, so a sealed shard is never orphaned.
    public func registerWeightKey(role: String, now: Date = Date()) throws -> SecureBytes {
        try database.write { db in
            let name = "weight:\(role)"
            if try readSecret(db, name) != nil {
                throw KeyBrokerError.configuration("role \(role) already has a weight key")
            }
            let key = SecureBytes.random(count: XChaCha20Poly1305.keyByteCount)
            let keyID = WeightSealer.keyID(of: key)
            try writeSecret(db, name, public: keyID, secret: key)
            let millis = Self.millis(now)
            _ = try append(db, .weightKeyRegistration(.init(time: millis, role: role, keyID: keyID)), now: millis)
            return key
        }
    }

    /// The role's registered weight-shard key, if any.
    public func weightKey(role: String) throws -> SecureBytes? {
        try database.read { db in try readSecret(db, "weight:\(role)")?.secret }
    }

    // MARK: Meta

    public func meta(_ key: String) throws -> [UInt8]? {
        try database.read { db in
            try (Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key])).map { [UInt8]($0) }
        }
    }

    public func setMeta(_ key: String, _ value: [UInt8]) throws {
        try database.write { db in try setMeta(db, key, value) }
    }

    private func setMeta(_ db: Database, _ key: String, _ value: [UInt8]) throws {
        try db.execute(sql: "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", arguments: [key, Data(value)])
    }

    // MARK: Log

    /// Appends `entry`, signs a new tree head, and returns the entry's index; one transaction.
    @discardableResult
    public func append(_ entry: LogEntry, now: UInt64) throws -> UInt64 {
        try database.write { db in try append(db, entry, now: now) }
    }

    /// Appends a policy-change entry and records it as the policy in force, in one transaction.
    public func appendPolicyChange(_ change: LogEntry.PolicyChange, now: UInt64) throws -> UInt64 {
        try database.write { db in
            let index = try append(db, .policyChange(change), now: now)
            try setMeta(db, "policy-entry-index", withUnsafeBytes(of: index.bigEndian) { Array($0) })
            try setMeta(db, "policy-digest", SHA256.hash(change.policy))
            return index
        }
    }

    private func append(_ db: Database, _ entry: LogEntry, now: UInt64) throws -> UInt64 {
        let identity = try identity(db)
        let encoded = entry.encoded
        let leafHash = MerkleHash.leaf(encoded)
        let cached = try loadTree(db)
        let index = UInt64(cached.size)
        try db.execute(
            sql: "INSERT INTO log_entries (idx, entry, leaf_hash) VALUES (?, ?, ?)",
            arguments: [Int64(index), Data(encoded), Data(leafHash)])
        var updated = cached
        updated.append(leafHash: leafHash)
        let head = SignedTreeHead.sign(
            treeSize: UInt64(updated.size), rootHash: updated.root, timestamp: now, with: identity)
        try db.execute(
            sql: "INSERT INTO tree_heads (tree_size, root, timestamp, signature) VALUES (?, ?, ?, ?)",
            arguments: [Int64(head.treeSize), Data(head.rootHash), Int64(head.timestamp), Data(head.signature)])
        // Only publish the new tree to the cache once the transaction commits.
        let committed = updated
        db.afterNextTransaction { [self] _ in self.tree.withLock { if $0.size < committed.size { $0 = committed } } }
        return index
    }

    /// The log as this transaction sees it: the cache plus any rows appended by another process.
    private func loadTree(_ db: Database) throws -> MerkleTree {
        var current = tree.withLock { $0 }
        let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM log_entries") ?? 0
        if count < current.size { current = MerkleTree() }
        if count > current.size {
            let rows = try Row.fetchAll(
                db, sql: "SELECT idx, leaf_hash FROM log_entries WHERE idx >= ? ORDER BY idx", arguments: [current.size]
            )
            for row in rows {
                guard (row["idx"] as Int) == current.size else {
                    throw KeyBrokerError.storeCorrupt("log index gap at \(current.size)")
                }
                current.append(leafHash: [UInt8](row["leaf_hash"] as Data))
            }
        }
        return current
    }

    private func refreshTree() throws {
        let loaded = try database.read { db in try loadTree(db) }
        tree.withLock { $0 = loaded }
    }

    /// The whole log as this store sees it now.
    public func merkleTree() throws -> MerkleTree {
        try database.read { db in try loadTree(db) }
    }

    /// Encoded entries, in log order.
    public func entries() throws -> [[UInt8]] {
        try database.read { db in
            try Data.fetchAll(db, sql: "SELECT entry FROM log_entries ORDER BY idx").map { [UInt8]($0) }
        }
    }

    public func entry(at index: UInt64) throws -> [UInt8]? {
        try database.read { db in
            try Data.fetchOne(db, sql: "SELECT entry FROM log_entries WHERE idx = ?", arguments: [Int64(index)]).map {
                [UInt8]($0)
            }
        }
    }

    /// All signed tree heads, smallest first.
    public func treeHeads() throws -> [SignedTreeHead] {
        try database.read { db in try Self.treeHeads(db, latestOnly: false) }
    }

    public func latestTreeHead() throws -> SignedTreeHead? {
        try database.read { db in try Self.treeHeads(db, latestOnly: true).first }
    }

    private static func treeHeads(_ db: Database, latestOnly: Bool) throws -> [SignedTreeHead] {
        let sql =
            latestOnly
            ? "SELECT * FROM tree_heads ORDER BY tree_size DESC LIMIT 1" : "SELECT * FROM tree_heads ORDER BY tree_size"
        return try Row.fetchAll(db, sql: sql).map {
            SignedTreeHead(
                treeSize: UInt64($0["tree_size"] as Int64), rootHash: [UInt8]($0["root"] as Data),
                timestamp: UInt64($0["timestamp"] as Int64), signature: [UInt8]($0["signature"] as Data))
        }
    }

    /// Everything `sealpipe ledger verify` needs, read without the root key.
    public static func readLedger(path: String) throws -> LedgerExport {
        var configuration = Configuration()
        configuration.readonly = true
        let database = try DatabaseQueue(path: path, configuration: configuration)
        return try database.read { db in
            guard let identity = try Data.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'identity-public'")
            else {
                throw KeyBrokerError.storeCorrupt("no identity public key in \(path)")
            }
            let entries = try Data.fetchAll(db, sql: "SELECT entry FROM log_entries ORDER BY idx").map { [UInt8]($0) }
            return LedgerExport(
                identityKey: try SigningPublicKey(bytes: [UInt8](identity)), entries: entries,
                treeHeads: try treeHeads(db, latestOnly: false))
        }
    }

    static func millis(_ date: Date) -> UInt64 { UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down))) }
}

/// One key epoch: keys made for it are used from `startsAt` to `endsAt` (ms since the Unix epoch).
public struct EpochRecord: Sendable, Hashable {
    public var epoch: UInt64
    public var startsAt: UInt64
    public var endsAt: UInt64

    public init(epoch: UInt64, startsAt: UInt64, endsAt: UInt64) {
        self.epoch = epoch
        self.startsAt = startsAt
        self.endsAt = endsAt
    }
}
