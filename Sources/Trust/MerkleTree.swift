/// An append-only RFC 9162 Merkle tree held in memory, able to give the root of any prefix and
/// the inclusion and consistency proofs between them (§2.1.3.1, §2.1.4.1).
///
/// It keeps every perfect subtree hash, level by level in flat buffers (about 64 bytes per
/// leaf), so an append costs two hashes on average and a root or proof O(log n): checking a
/// log with a tree head after every entry stays linear in the log's length.
public struct MerkleTree: Sendable, Hashable {
    /// `levels[l]` holds the 32-byte hashes of the complete level-`l` nodes, in order.
    private var levels: [[UInt8]] = [[]]

    public init(leafHashes: [[UInt8]] = []) {
        for hash in leafHashes { append(leafHash: hash) }
    }

    /// Number of leaves.
    public private(set) var size = 0

    /// Leaf hashes in log order (a copy; prefer `leafHash(at:)` for one).
    public var leafHashes: [[UInt8]] { (0..<size).map { node(level: 0, index: $0) } }

    /// The hash of leaf `index`.
    public func leafHash(at index: Int) throws(MerkleProofError) -> [UInt8] {
        guard index >= 0, index < size else { throw .indexOutOfRange(index: index, treeSize: size) }
        return node(level: 0, index: index)
    }

    /// Appends one leaf hash (already `MerkleHash.leaf` of the entry).
    public mutating func append(leafHash: [UInt8]) {
        precondition(leafHash.count == MerkleHash.byteCount, "a leaf hash is 32 bytes")
        levels[0] += leafHash
        var index = size
        var level = 0
        // A right child completes its parent: hash the pair one level up, and so on.
        while index & 1 == 1 {
            let parent = MerkleHash.node(node(level: level, index: index - 1), node(level: level, index: index))
            level += 1
            index >>= 1
            if levels.count == level { levels.append([]) }
            levels[level] += parent
        }
        size += 1
    }

    /// Appends the leaf hash of `data`.
    public mutating func append(leafData data: [UInt8]) {
        append(leafHash: MerkleHash.leaf(data))
    }

    /// MTH of the whole tree.
    public var root: [UInt8] {
        var subtrees = subtrees(size: size)
        return subtrees.root()
    }

    /// MTH of the first `size` leaves.
    public func root(size: Int) throws(MerkleProofError) -> [UInt8] {
        guard size >= 0, size <= self.size else { throw .sizeOutOfRange(size: size, treeSize: self.size) }
        var subtrees = subtrees(size: size)
        return subtrees.root()
    }

    /// The audit path for leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1).
    public func inclusionProof(index: Int, size: Int) throws(MerkleProofError) -> [[UInt8]] {
        guard size > 0, size <= self.size else { throw .sizeOutOfRange(size: size, treeSize: self.size) }
        guard index >= 0, index < size else { throw .indexOutOfRange(index: index, treeSize: size) }
        var subtrees = subtrees(size: size)
        return subtrees.inclusionProof(index: index)
    }

    /// The consistency proof between the first `oldSize` and first `newSize` leaves (RFC 9162 §2.1.4.1).
    public func consistencyProof(from oldSize: Int, to newSize: Int) throws(MerkleProofError) -> [[UInt8]] {
        guard newSize <= size else { throw .sizeOutOfRange(size: newSize, treeSize: size) }
        guard oldSize > 0, oldSize <= newSize else { throw .invalidSizes(size1: oldSize, size2: newSize) }
        var subtrees = subtrees(size: newSize)
        return subtrees.consistencyProof(from: oldSize)
    }

    private func subtrees(size: Int) -> MerkleSubtrees<Never> {
        MerkleSubtrees(size: size) { level, index in node(level: level, index: index) }
    }

    private func node(level: Int, index: Int) -> [UInt8] {
        let start = index * MerkleHash.byteCount
        return Array(levels[level][start..<start + MerkleHash.byteCount])
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2).
    static func largestPowerOfTwo(below n: Int) -> Int {
        1 << (Int.bitWidth - 1 - (n - 1).leadingZeroBitCount)
    }
}
