/// Verification of RFC 9162 inclusion (§2.1.3.2) and consistency (§2.1.4.2) proofs.
///
/// Conventions (shared with transparency-dev/merkle): every hash must be 32 bytes; a
/// consistency proof from size 0 is always refused; equal sizes need an empty proof and
/// byte-equal roots.
public enum MerkleProof {
    /// Succeeds only if `leafHash` sits at `index` in the tree of `treeSize` leaves whose root is `root`.
    public static func verifyInclusion(
        leafHash: [UInt8], index: UInt64, treeSize: UInt64, proof: [[UInt8]], root: [UInt8]
    ) throws(MerkleProofError) {
        guard index < treeSize else {
            throw .indexOutOfRange(index: Int(clamping: index), treeSize: Int(clamping: treeSize))
        }
        guard leafHash.count == MerkleHash.byteCount else {
            throw .wrongHashLength(what: "leaf hash", length: leafHash.count)
        }
        for element in proof where element.count != MerkleHash.byteCount {
            throw .wrongHashLength(what: "proof element", length: element.count)
        }
        let expected = inclusionProofLength(index: index, treeSize: treeSize)
        guard proof.count == expected else { throw .wrongProofLength(expected: expected, actual: proof.count) }

        var fn = index
        var sn = treeSize - 1
        var r = leafHash
        for p in proof {
            guard sn != 0 else { throw .wrongProofLength(expected: expected, actual: proof.count) }
            if fn & 1 == 1 || fn == sn {
                r = MerkleHash.node(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleHash.node(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength(expected: expected, actual: proof.count) }
        guard r == root else { throw .rootMismatch }
    }

    /// Succeeds only if the tree of `size1` leaves with `root1` is a prefix of the tree of `size2` leaves with `root2`.
    public static func verifyConsistency(
        size1: UInt64, size2: UInt64, root1: [UInt8], root2: [UInt8], proof: [[UInt8]]
    ) throws(MerkleProofError) {
        guard size1 > 0, size1 <= size2 else {
            throw .invalidSizes(size1: Int(clamping: size1), size2: Int(clamping: size2))
        }
        if size1 == size2 {
            guard proof.isEmpty else { throw .wrongProofLength(expected: 0, actual: proof.count) }
            guard root1 == root2 else { throw .rootMismatch }
            return
        }
        guard root1.count == MerkleHash.byteCount else { throw .wrongHashLength(what: "root1", length: root1.count) }
        guard root2.count == MerkleHash.byteCount else { throw .wrongHashLength(what: "root2", length: root2.count) }
        for element in proof where element.count != MerkleHash.byteCount {
            throw .wrongHashLength(what: "proof element", length: element.count)
        }
        guard !proof.isEmpty else { throw .wrongProofLength(expected: 1, actual: 0) }

        var path = proof
        // A power-of-two old tree is itself a node of the new one, so its root starts the path.
        if size1 & (size1 - 1) == 0 { path.insert(root1, at: 0) }
        var fn = size1 - 1
        var sn = size2 - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0]
        var sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw .wrongProofLength(expected: path.count - 1, actual: proof.count) }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleHash.node(c, fr)
                sr = MerkleHash.node(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleHash.node(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0 else { throw .wrongProofLength(expected: path.count - 1, actual: proof.count) }
        guard fr == root1, sr == root2 else { throw .rootMismatch }
    }

    /// Length of the audit path for `index` in a tree of `treeSize` leaves.
    static func inclusionProofLength(index: UInt64, treeSize: UInt64) -> Int {
        // Bits below the highest bit where index and the last index differ, plus the right border's left turns.
        let last = treeSize - 1
        let inner = 64 - (index ^ last).leadingZeroBitCount
        let border = (index >> UInt64(inner)).nonzeroBitCount
        return inner + border
    }
}
