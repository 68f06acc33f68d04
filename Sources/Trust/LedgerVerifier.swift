public import Sodium

/// Offline check of a whole transparency log: every entry decodes, every tree head is signed
/// by the identity key and matches the root recomputed from the entries, successive heads are
/// consistent (RFC 9162 consistency proofs) and never go back in size or time, and the last
/// head covers every entry. Linear in the log: each entry costs about two hashes (`MerkleTree`
/// keeps its interior nodes) and each head a signature check and O(log n) hashes.
public enum LedgerVerifier {
    public static func verify(_ ledger: LedgerExport, pinnedIdentity: SigningPublicKey? = nil) -> LedgerReport {
        var report = LedgerReport()
        if let pinnedIdentity, pinnedIdentity != ledger.identityKey {
            report.problems.append("identity key \(Hex.encode(ledger.identityKey.bytes)) is not the pinned key")
        }
        var tree = MerkleTree()
        for (index, bytes) in ledger.entries.enumerated() {
            do {
                let entry = try LogEntry(encoded: bytes)
                report.entryCounts[entry.typeName, default: 0] += 1
            } catch {
                report.problems.append("entry \(index) does not decode: \(error)")
            }
            tree.append(leafData: bytes)
        }
        report.entryCount = ledger.entries.count
        report.treeHeadCount = ledger.treeHeads.count

        var previous: SignedTreeHead?
        for (i, head) in ledger.treeHeads.enumerated() {
            if !head.hasValidSignature(by: ledger.identityKey) {
                report.problems.append("tree head \(i) (size \(head.treeSize)): signature does not verify")
            }
            guard head.treeSize <= UInt64(tree.size) else {
                report.problems.append(
                    "tree head \(i) (size \(head.treeSize)): larger than the log (\(tree.size) entries)")
                continue
            }
            let root = (try? tree.root(size: Int(head.treeSize))) ?? []
            if root != head.rootHash {
                report.problems.append("tree head \(i) (size \(head.treeSize)): root does not match the entries")
            }
            if let previous {
                if head.treeSize < previous.treeSize || head.timestamp < previous.timestamp {
                    report.problems.append(
                        "tree head \(i): goes back from size \(previous.treeSize) or time \(previous.timestamp)")
                } else if previous.treeSize > 0 {
                    do {
                        let proof = try tree.consistencyProof(from: Int(previous.treeSize), to: Int(head.treeSize))
                        try MerkleProof.verifyConsistency(
                            size1: previous.treeSize, size2: head.treeSize, root1: previous.rootHash,
                            root2: head.rootHash,
                            proof: proof)
                    } catch {
                        report.problems.append("tree heads \(i - 1)→\(i): not consistent: \(error)")
                    }
                }
            }
            previous = head
        }
        if let last = ledger.treeHeads.last, last.treeSize != UInt64(tree.size) {
            report.problems.append("last tree head covers \(last.treeSize) of \(tree.size) entries")
        }
        if ledger.treeHeads.isEmpty && !ledger.entries.isEmpty {
            report.problems.append("no signed tree head covers the \(tree.size) entries")
        }
        report.rootHash = tree.root
        return report
    }
}

/// What `LedgerVerifier` found.
public struct LedgerReport: Sendable, Hashable {
    public var entryCount = 0
    public var treeHeadCount = 0
    /// Entries per type name (`policy-change`, `key-release`, …).
    public var entryCounts: [String: Int] = [:]
    public var rootHash: [UInt8] = []
    /// Every problem found; empty means the log verified.
    public var problems: [String] = []

    public var isValid: Bool { problems.isEmpty }
}
