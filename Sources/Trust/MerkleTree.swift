/// An append-only RFC 9162 Merkle tree over leaf hashes, able to give the root of any
/// prefix and the inclusion and consistency proofs between them (§2.1.3.1, §2.1.4.1).
///
/// It stores leaf hashes only; interior nodes are recomputed on demand, which keeps the
/// value simple and is fast enough for a broker's log (thousands of entries).
public struct MerkleTree: Sendable, Hashable {
    /// Leaf hashes in log order.
    public private(set) var leafHashes: [[UInt8]]

    public init(leafHashes: [[UInt8]] = []) {
        self.leafHashes = leafHashes
    }

    /// Number of leaves.
    public var size: Int { leafHashes.count }

    /// Appends one leaf hash (already `MerkleHash.leaf` of the entry).
    public mutating func append(leafHash: [UInt8]) {
        leafHashes.append(leafHash)
    }

    /// Appends the leaf hash of `data`.
    public mutating func append(leafData data: [UInt8]) {
        leafHashes.append(MerkleHash.leaf(data))
    }

    /// MTH of the whole tree.
    public var root: [UInt8] { subtreeHash(0, leafHashes.count) }

    /// MTH of the first `size` leaves.
    public func root(size: Int) throws(MerkleProofError) -> [UInt8] {
        guard size >= 0, size <= leafHashes.count else {
            throw .sizeOutOfRange(size: size, treeSize: leafHashes.count)
        }
        return subtreeHash(0, size)
    }

    /// The audit path for leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1).
    public func inclusionProof(index: Int, size: Int) throws(MerkleProofError) -> [[UInt8]] {
        guard size > 0, size <= leafHashes.count else {
            throw .sizeOutOfRange(size: size, treeSize: leafHashes.count)
        }
        guard index >= 0, index < size else { throw .indexOutOfRange(index: index, treeSize: size) }
        return path(index, 0, size)
    }

    /// The consistency proof between the first `oldSize` and first `newSize` leaves (RFC 9162 §2.1.4.1).
    public func consistencyProof(from oldSize: Int, to newSize: Int) throws(MerkleProofError) -> [[UInt8]] {
        guard newSize <= leafHashes.count else { throw .sizeOutOfRange(size: newSize, treeSize: leafHashes.count) }
        guard oldSize > 0, oldSize <= newSize else { throw .invalidSizes(size1: oldSize, size2: newSize) }
        if oldSize == newSize { return [] }
        return subproof(oldSize, 0, newSize, true)
    }

    private func subtreeHash(_ start: Int, _ end: Int) -> [UInt8] {
        let count = end - start
        if count == 0 { return MerkleHash.emptyRoot }
        if count == 1 { return leafHashes[start] }
        let split = Self.largestPowerOfTwo(below: count)
        return MerkleHash.node(subtreeHash(start, start + split), subtreeHash(start + split, end))
    }

    private func path(_ index: Int, _ start: Int, _ end: Int) -> [[UInt8]] {
        let count = end - start
        if count <= 1 { return [] }
        let split = Self.largestPowerOfTwo(below: count)
        if index < split {
            return path(index, start, start + split) + [subtreeHash(start + split, end)]
        }
        return path(index - split, start + split, end) + [subtreeHash(start, start + split)]
    }

    private func subproof(_ m: Int, _ start: Int, _ end: Int, _ isWholeOldTree: Bool) -> [[UInt8]] {
        let count = end - start
        if m == count { return isWholeOldTree ? [] : [subtreeHash(start, end)] }
        let split = Self.largestPowerOfTwo(below: count)
        if m <= split {
            return subproof(m, start, start + split, isWholeOldTree) + [subtreeHash(start + split, end)]
        }
        return subproof(m - split, start + split, end, false) + [subtreeHash(start, start + split)]
    }

    /// The largest power of two strictly smaller than `n` (n ≥ 2).
    static func largestPowerOfTwo(below n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }
}
