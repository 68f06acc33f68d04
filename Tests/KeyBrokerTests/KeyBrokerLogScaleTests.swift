import Foundation
import GRDB
import Sodium
import Testing
import Trust

@testable import KeyBroker

@Suite("Key broker: the log at a million entries", .timeLimit(.minutes(10)))
struct KeyBrokerLogScaleTests {
    static func entry(_ i: Int) -> LogEntry {
        .keyRelease(
            .init(
                time: 1_800_000_000_000, role: "shard-\(i % 4)", epoch: 1, evidenceKind: "simulated",
                measurement: String(repeating: "5a", count: 48),
                ephemeralKeyFingerprint: SHA256.hash(withUnsafeBytes(of: i) { Array($0) }), includesWeightKey: true))
    }

    /// Log rows one store operation read and wrote.
    static func rows(_ store: KeyBrokerStore, _ body: () throws -> Void) rethrows -> (reads: Int, writes: Int) {
        let before = store.logRows.totals
        try body()
        let after = store.logRows.totals
        return (after.reads - before.reads, after.writes - before.writes)
    }

    @Test("append, tree head, inclusion and consistency proofs touch O(log n) rows at 1k, 100k and 1M entries")
    func millionEntries() throws {
        let f = try BrokerFixture()
        let store = try f.openStore()
        let now = UInt64(f.clock.now.timeIntervalSince1970 * 1000)
        var report: [String] = []
        for size in [1_000, 100_000, 1_000_000] {
            let missing = size - 1 - Int(try store.logSize())
            try store.appendInBulk(count: missing, now: now) { Self.entry($0) }
            // One real append: entry, the nodes it completes, a signed head; one row read (the last index).
            let append = try Self.rows(store) { try store.append(Self.entry(size), now: now) }
            #expect(try store.logSize() == UInt64(size))
            let log2 = Int.bitWidth - size.leadingZeroBitCount
            #expect(append.reads == 1, "append at \(size) read \(append.reads) rows")
            #expect(append.writes <= log2 + 2, "append at \(size) wrote \(append.writes) rows")

            let head = try #require(try store.latestTreeHead())
            #expect(head.treeSize == UInt64(size))
            #expect(head.hasValidSignature(by: try store.identity().publicKey))
            var proofReads: [Int] = []
            for index in [0, size / 3, size - 1] {
                var proof: [[UInt8]] = []
                let cost = try Self.rows(store) {
                    proof = try store.inclusionProof(index: UInt64(index), treeSize: UInt64(size))
                }
                let leaf = try #require(try store.entry(at: UInt64(index)))
                try MerkleProof.verifyInclusion(
                    leafHash: MerkleHash.leaf(leaf), index: UInt64(index), treeSize: UInt64(size), proof: proof,
                    root: head.rootHash)
                proofReads.append(cost.reads)
                #expect(cost.reads <= 2 * log2 + 3, "inclusion of \(index) at \(size) read \(cost.reads) rows")
            }
            let old = size / 2 + 1
            var consistency: [[UInt8]] = []
            var oldRoot: [UInt8] = []
            let oldRootCost = try Self.rows(store) { oldRoot = try store.root(size: UInt64(old)) }
            let consistencyCost = try Self.rows(store) {
                consistency = try store.consistencyProof(from: UInt64(old), to: UInt64(size))
            }
            try MerkleProof.verifyConsistency(
                size1: UInt64(old), size2: UInt64(size), root1: oldRoot, root2: head.rootHash, proof: consistency)
            #expect(oldRootCost.reads == 1 + old.nonzeroBitCount)
            #expect(consistencyCost.reads <= 2 * log2 + 3)
            report.append(
                "\(size): append \(append.reads) read/\(append.writes) written, inclusion \(proofReads) read, "
                    + "consistency \(consistencyCost.reads) read")
        }
        // Reopened at a million entries, the store reads the border, not the log.
        let reopened = try f.openStore()
        #expect(try reopened.root(size: 1_000_000) == (try store.latestTreeHead())?.rootHash)
        print("log rows per operation: " + report.joined(separator: "; "))
    }

    @Test("a log written before interior nodes were kept gets them on open, and its proofs verify")
    func migration() throws {
        let f = try BrokerFixture()
        // A version-1 state: the first migration's tables only, with 37 entries.
        let path = f.configuration.statePath
        let database = try DatabaseQueue(path: path)
        var tree = MerkleTree()
        try database.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1');
                    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value BLOB NOT NULL);
                    CREATE TABLE secrets (name TEXT PRIMARY KEY NOT NULL, public BLOB, sealed BLOB NOT NULL);
                    CREATE TABLE epochs (epoch INTEGER PRIMARY KEY NOT NULL, starts_at INTEGER NOT NULL,
                        ends_at INTEGER NOT NULL);
                    CREATE TABLE log_entries (idx INTEGER PRIMARY KEY NOT NULL, entry BLOB NOT NULL,
                        leaf_hash BLOB NOT NULL);
                    CREATE TABLE tree_heads (tree_size INTEGER PRIMARY KEY NOT NULL, root BLOB NOT NULL,
                        timestamp INTEGER NOT NULL, signature BLOB NOT NULL);
                    """)
            for i in 0..<37 {
                let encoded = Self.entry(i).encoded
                tree.append(leafData: encoded)
                try db.execute(
                    sql: "INSERT INTO log_entries (idx, entry, leaf_hash) VALUES (?, ?, ?)",
                    arguments: [i, Data(encoded), Data(MerkleHash.leaf(encoded))])
            }
        }
        try database.close()
        let store = try f.openStore()
        #expect(try store.logSize() == 37)
        #expect(try store.root(size: 37) == tree.root)
        for size in [1, 8, 20, 37] {
            #expect(try store.root(size: UInt64(size)) == (try tree.root(size: size)))
            for index in [0, size / 2, size - 1] {
                #expect(
                    try store.inclusionProof(index: UInt64(index), treeSize: UInt64(size))
                        == (try tree.inclusionProof(index: index, size: size)))
            }
            #expect(
                try store.consistencyProof(from: UInt64(size), to: 37)
                    == (try tree.consistencyProof(from: size, to: 37)))
        }
        try store.append(Self.entry(37), now: 1_800_000_000_000)
        tree.append(leafData: Self.entry(37).encoded)
        #expect(try store.latestTreeHead()?.rootHash == tree.root)
        #expect(throws: MerkleProofError.sizeOutOfRange(size: 39, treeSize: 38)) {
            try store.inclusionProof(index: 0, treeSize: 39)
        }
    }
}
