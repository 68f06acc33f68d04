/// RFC 9162 roots and proofs (§2.1.3.1, §2.1.4.1) for a tree of `size` leaves, computed from
/// stored *perfect* subtree hashes instead of from every leaf.
///
/// Node (`level`, `index`) is the hash of leaves `index·2^level ..< (index+1)·2^level`; level 0
/// is the leaf hashes. Every range the RFC's recursion asks for is either such a node or a
/// "ragged" range ending at `size`, and there are at most 64 ragged ranges, each remembered once
/// computed. So a root costs one read per set bit of `size`, and a proof O(log size) reads and
/// hashes whatever the size: a log can keep its nodes on disk and stay fast.
public struct MerkleSubtrees<Failure: Error> {
    /// Leaves in the tree the proofs are about.
    public let size: Int
    private let read: (_ level: Int, _ index: Int) throws(Failure) -> [UInt8]
    /// Hash of leaves `start ..< size` by `start`, for the ragged ranges already computed.
    private var ragged: [Int: [UInt8]] = [:]

    /// `read(level, index)` must return the stored perfect node; it is only asked for nodes
    /// that lie wholly inside the first `size` leaves.
    public init(size: Int, read: @escaping (_ level: Int, _ index: Int) throws(Failure) -> [UInt8]) {
        precondition(size >= 0, "a tree has no negative size")
        self.size = size
        self.read = read
    }

    /// MTH of the whole tree.
    public mutating func root() throws(Failure) -> [UInt8] { try hash(0, size) }

    /// The audit path for leaf `index` (0 ≤ index < size).
    public mutating func inclusionProof(index: Int) throws(Failure) -> [[UInt8]] {
        precondition(index >= 0 && index < size, "leaf index outside the tree")
        var proof: [[UInt8]] = []
        try path(index, 0, size, into: &proof)
        return proof.reversed()
    }

    /// The consistency proof from the tree of the first `oldSize` leaves (0 < oldSize ≤ size).
    public mutating func consistencyProof(from oldSize: Int) throws(Failure) -> [[UInt8]] {
        precondition(oldSize > 0 && oldSize <= size, "old size outside the tree")
        if oldSize == size { return [] }
        var proof: [[UInt8]] = []
        try subproof(oldSize, 0, size, true, into: &proof)
        return proof.reversed()
    }

    /// MTH(D[start:end]); `end` is `size` or `start` is aligned to the range's power-of-two length.
    private mutating func hash(_ start: Int, _ end: Int) throws(Failure) -> [UInt8] {
        let count = end - start
        if count == 0 { return MerkleHash.emptyRoot }
        if count & (count - 1) == 0 {
            let level = count.trailingZeroBitCount
            assert(start & (count - 1) == 0, "perfect range not aligned")
            return try read(level, start >> level)
        }
        assert(end == size, "a ragged range always ends at the tree's size")
        if let known = ragged[start] { return known }
        let split = MerkleTree.largestPowerOfTwo(below: count)
        let value = MerkleHash.node(try hash(start, start + split), try hash(start + split, end))
        ragged[start] = value
        return value
    }

    /// PATH(m, D[start:end]), appended innermost first (the caller reverses it).
    private mutating func path(_ index: Int, _ start: Int, _ end: Int, into proof: inout [[UInt8]]) throws(Failure) {
        let count = end - start
        if count <= 1 { return }
        let split = MerkleTree.largestPowerOfTwo(below: count)
        if index < split {
            proof.append(try hash(start + split, end))
            try path(index, start, start + split, into: &proof)
        } else {
            proof.append(try hash(start, start + split))
            try path(index - split, start + split, end, into: &proof)
        }
    }

    /// SUBPROOF(m, D[start:end], b), appended innermost first (the caller reverses it).
    private mutating func subproof(
        _ m: Int, _ start: Int, _ end: Int, _ isWholeOldTree: Bool, into proof: inout [[UInt8]]
    ) throws(Failure) {
        let count = end - start
        if m == count {
            if !isWholeOldTree { proof.append(try hash(start, end)) }
            return
        }
        let split = MerkleTree.largestPowerOfTwo(below: count)
        if m <= split {
            proof.append(try hash(start + split, end))
            try subproof(m, start, start + split, isWholeOldTree, into: &proof)
        } else {
            proof.append(try hash(start, start + split))
            try subproof(m - split, start + split, end, false, into: &proof)
        }
    }
}
