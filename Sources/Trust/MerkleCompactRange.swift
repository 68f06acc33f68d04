/// The right border of an append-only Merkle tree: the roots of the perfect subtrees that
/// make up its first `size` leaves, one per set bit of `size`, largest first.
///
/// It is all an appender needs: appending a leaf merges equal-sized subtrees (one hash each,
/// two on average) and the root folds at most 64 nodes, whatever the size of the log.
public struct MerkleCompactRange: Sendable, Hashable {
    /// A perfect subtree made by an append: the hash of leaves `index·2^level ..< (index+1)·2^level`.
    public struct Node: Sendable, Hashable {
        public var level: Int
        public var index: Int
        public var hash: [UInt8]
    }

    /// Leaves covered.
    public private(set) var size: Int
    /// Perfect subtree hashes, left to right (decreasing level).
    public private(set) var hashes: [[UInt8]]

    /// The empty range.
    public init() {
        size = 0
        hashes = []
    }

    /// A range read back from storage; `hashes` must be the nodes `coordinates(size:)` names.
    public init(size: Int, hashes: [[UInt8]]) throws(MerkleProofError) {
        guard size >= 0 else { throw .sizeOutOfRange(size: size, treeSize: 0) }
        guard hashes.count == size.nonzeroBitCount else {
            throw .wrongProofLength(expected: size.nonzeroBitCount, actual: hashes.count)
        }
        for hash in hashes where hash.count != MerkleHash.byteCount {
            throw .wrongHashLength(what: "compact range node", length: hash.count)
        }
        self.size = size
        self.hashes = hashes
    }

    /// (level, index) of each node a range of `size` leaves holds, left to right.
    public static func coordinates(size: Int) -> [(level: Int, index: Int)] {
        var result: [(level: Int, index: Int)] = []
        var start = 0
        for level in stride(from: Int.bitWidth - 2, through: 0, by: -1) where size & (1 << level) != 0 {
            result.append((level, start >> level))
            start += 1 << level
        }
        return result
    }

    /// Appends one leaf hash; returns the interior nodes (level ≥ 1) it completed, lowest first.
    @discardableResult
    public mutating func append(leafHash: [UInt8]) -> [Node] {
        precondition(leafHash.count == MerkleHash.byteCount, "a leaf hash is 32 bytes")
        var made: [Node] = []
        var carry = leafHash
        var index = size
        var level = 0
        // Each trailing one bit of the old size is a subtree of the new leaf's height: merge it.
        while index & 1 == 1 {
            carry = MerkleHash.node(hashes.removeLast(), carry)
            index >>= 1
            level += 1
            made.append(Node(level: level, index: index, hash: carry))
        }
        hashes.append(carry)
        size += 1
        return made
    }

    /// MTH of the covered leaves: `hashes.count - 1` hashes.
    public var root: [UInt8] {
        guard var result = hashes.last else { return MerkleHash.emptyRoot }
        for hash in hashes.dropLast().reversed() { result = MerkleHash.node(hash, result) }
        return result
    }
}
