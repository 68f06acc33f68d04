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
///
/// The log keeps every perfect subtree hash of its Merkle tree (`log_nodes`, leaves in
/// `log_entries`) and, in memory, the tree's right border: an append reads one row and writes
/// O(log n), and a root or proof reads O(log n) rows, however long the log. The file is created
/// mode 0600 and SQLite overwrites deleted content (`secure_delete`), so erased epoch keys do
/// not linger in free pages.
public final class KeyBrokerStore: Sendable {
    private let database: DatabaseQueue
    private let rootKey: SecureBytes
    /// The log's right border as last committed by this process; checked against the table's
    /// last index on each use, since `sealpipe model seal` may append from another process.
    private let border = Mutex(MerkleCompactRange())
    /// Rows of the log tables read and written, so tests can check an operation's cost.
    let logRows = LogRowCounter()

    /// Opens (creating if needed) the state at `path`, sealed under `rootKey`.
    public init(path: String, rootKey: SecureBytes) throws {
        guard rootKey.count == RootKey.byteCount else {
            throw KeyBrokerError.rootKeyUnreadable(path: path, reason: "root key must be 32 bytes")
        }
        self.rootKey = rootKey
        try Self.makePrivate(path)
        var configuration = Configuration()
        // `sealpipe model seal` may register weight keys while the broker runs: wait for its lock.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA secure_delete = ON") }
        database = try DatabaseQueue(path: path, configuration: configuration)
        try Self.migrator.migrate(database)
        let loaded = try database.read { db in try Self.readBorder(db, size: try Self.storedSize(db), counter: nil) }
        border.withLock { $0 = loaded }
        // Fail at start, not at first request, if the root key is not the one that sealed the state.
        if try database.read({ db in try Row.fetchOne(db, sql: "SELECT 1 FROM secrets LIMIT 1") }) != nil {
            _ = try identity()
        }
    }

    /// Opens the state at `path` with the root key read from `rootKeyPath` (mode 0600 enforced).
    public convenience init(path: String, rootKeyPath: String) throws {
        try self.init(path: path, rootKey: try RootKey.load(from: rootKeyPath))
    }

    /// Creates the database file owner-only, or narrows an existing one to 0600, before SQLite
    /// opens it (SQLite gives its journal the database file's mode).
    private static func makePrivate(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw KeyBrokerError.storeUnwritable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        guard fchmod(fd, 0o600) == 0 else {
            throw KeyBrokerError.storeUnwritable(
                path: path, reason: "cannot set mode 0600: \(String(cString: strerror(errno)))")
        }
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
        // Interior nodes of the log's tree (level ≥ 1; level 0 is `log_entries.leaf_hash`),
        // filled once for a log written before they were kept.
        migrator.registerMigration("v2-log-nodes") { db in
            try db.execute(
                sql: """
                    CREATE TABLE log_nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
                        PRIMARY KEY (level, idx)) WITHOUT ROWID;
                    """)
            var range = MerkleCompactRange()
            let rows = try Row.fetchCursor(db, sql: "SELECT idx, leaf_hash FROM log_entries ORDER BY idx")
            while let row = try rows.next() {
                guard (row["idx"] as Int) == range.size else {
                    throw KeyBrokerError.storeCorrupt("log index gap at \(range.size)")
                }
                let leafHash = [UInt8](row["leaf_hash"] as Data)
                guard leafHash.count == MerkleHash.byteCount else {
                    throw KeyBrokerError.storeCorrupt("leaf hash \(range.size) is \(leafHash.count) bytes")
                }
                for node in range.append(leafHash: leafHash) { try insert(db, node) }
            }
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
        var range = try currentBorder(db)
        let index = try appendLeaf(db, entry, to: &range)
        try signHead(db, range, now: now, with: identity)
        publishAfterCommit(db, range)
        return index
    }

    /// Writes the entry, its leaf hash and the interior nodes it completes; no tree head.
    private func appendLeaf(_ db: Database, _ entry: LogEntry, to range: inout MerkleCompactRange) throws -> UInt64 {
        let encoded = entry.encoded
        // What `ledger verify` could not decode is never written.
        do { _ = try LogEntry(encoded: encoded) } catch {
            throw KeyBrokerError.logEntryRefused("\(entry.typeName) entry does not decode back: \(error)")
        }
        let leafHash = MerkleHash.leaf(encoded)
        let index = UInt64(range.size)
        try db.execute(
            sql: "INSERT INTO log_entries (idx, entry, leaf_hash) VALUES (?, ?, ?)",
            arguments: [Int64(index), Data(encoded), Data(leafHash)])
        let made = range.append(leafHash: leafHash)
        for node in made { try Self.insert(db, node) }
        logRows.wrote(1 + made.count)
        return index
    }

    private static func insert(_ db: Database, _ node: MerkleCompactRange.Node) throws {
        try db.execute(
            sql: "INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)",
            arguments: [node.level, Int64(node.index), Data(node.hash)])
    }

    /// Publishes the new border to the cache only once the transaction commits.
    private func publishAfterCommit(_ db: Database, _ range: MerkleCompactRange) {
        db.afterNextTransaction { [self] _ in self.border.withLock { if $0.size < range.size { $0 = range } } }
    }

    /// The log's right border as this transaction sees it: the cache, or (after another
    /// process appended) the border read back from the stored nodes.
    private func currentBorder(_ db: Database) throws -> MerkleCompactRange {
        let cached = border.withLock { $0 }
        let size = try Self.storedSize(db)
        logRows.read(1)
        if size == cached.size { return cached }
        return try Self.readBorder(db, size: size, counter: logRows)
    }

    /// Entries in the log: one past the last index, found through the primary key, not a count.
    private static func storedSize(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT idx FROM log_entries ORDER BY idx DESC LIMIT 1").map { $0 + 1 } ?? 0
    }

    private static func readBorder(_ db: Database, size: Int, counter: LogRowCounter?) throws -> MerkleCompactRange {
        let hashes = try MerkleCompactRange.coordinates(size: size).map { level, index in
            try node(db, level: level, index: index, counter: counter)
        }
        return try MerkleCompactRange(size: size, hashes: hashes)
    }

    /// One stored perfect-subtree hash (level 0: a leaf hash).
    private static func node(_ db: Database, level: Int, index: Int, counter: LogRowCounter?) throws -> [UInt8] {
        counter?.read(1)
        let stored =
            level == 0
            ? try Data.fetchOne(db, sql: "SELECT leaf_hash FROM log_entries WHERE idx = ?", arguments: [index])
            : try Data.fetchOne(
                db, sql: "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", arguments: [level, index])
        guard let stored, stored.count == MerkleHash.byteCount else {
            throw KeyBrokerError.storeCorrupt("log node \(level)/\(index) is missing or not 32 bytes")
        }
        return [UInt8](stored)
    }

    /// Runs `body` over the tree of the first `size` entries, reading nodes from the store.
    private func withSubtrees<T>(
        size: UInt64, _ body: (inout MerkleSubtrees<any Error>) throws -> T
    ) throws -> T {
        try database.read { db in
            let stored = try Self.storedSize(db)
            logRows.read(1)
            guard size <= UInt64(stored) else {
                throw MerkleProofError.sizeOutOfRange(size: Int(clamping: size), treeSize: stored)
            }
            var subtrees = MerkleSubtrees<any Error>(size: Int(size)) { [logRows] level, index in
                try Self.node(db, level: level, index: index, counter: logRows)
            }
            return try body(&subtrees)
        }
    }

    /// Entries in the log now.
    public func logSize() throws -> UInt64 {
        UInt64(try database.read { db in try Self.storedSize(db) })
    }

    /// MTH of the first `size` entries.
    public func root(size: UInt64) throws -> [UInt8] {
        try withSubtrees(size: size) { try $0.root() }
    }

    /// The audit path for entry `index` in the tree of the first `treeSize` entries.
    public func inclusionProof(index: UInt64, treeSize: UInt64) throws -> [[UInt8]] {
        guard treeSize > 0 else { throw MerkleProofError.sizeOutOfRange(size: 0, treeSize: 0) }
        guard index < treeSize else {
            throw MerkleProofError.indexOutOfRange(index: Int(clamping: index), treeSize: Int(clamping: treeSize))
        }
        return try withSubtrees(size: treeSize) { try $0.inclusionProof(index: Int(index)) }
    }

    /// The consistency proof between the first `oldSize` and the first `newSize` entries.
    public func consistencyProof(from oldSize: UInt64, to newSize: UInt64) throws -> [[UInt8]] {
        guard oldSize > 0, oldSize <= newSize else {
            throw MerkleProofError.invalidSizes(size1: Int(clamping: oldSize), size2: Int(clamping: newSize))
        }
        return try withSubtrees(size: newSize) { try $0.consistencyProof(from: Int(oldSize)) }
    }

    /// Appends `count` entries in one transaction and signs a tree head after each (as the
    /// broker does) or only after the last: fills a log quickly for tests and benchmarks of a
    /// large log. Reachable only through `@testable import`.
    func appendInBulk(count: Int, now: UInt64, headAfterEach: Bool = false, entry: (Int) -> LogEntry) throws {
        try database.write { db in
            // A million rows in one transaction: keep them in memory rather than spilling to disk.
            try db.execute(sql: "PRAGMA cache_size = -262144")
            let identity = try identity(db)
            var range = try currentBorder(db)
            for i in 0..<count {
                _ = try appendLeaf(db, entry(i), to: &range)
                if headAfterEach || i == count - 1 { try signHead(db, range, now: now, with: identity) }
            }
            publishAfterCommit(db, range)
        }
    }

    private func signHead(_ db: Database, _ range: MerkleCompactRange, now: UInt64, with identity: SigningKeyPair)
        throws
    {
        let head = SignedTreeHead.sign(
            treeSize: UInt64(range.size), rootHash: range.root, timestamp: now, with: identity)
        try db.execute(
            sql: "INSERT INTO tree_heads (tree_size, root, timestamp, signature) VALUES (?, ?, ?, ?)",
            arguments: [Int64(head.treeSize), Data(head.rootHash), Int64(head.timestamp), Data(head.signature)])
        logRows.wrote(1)
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
