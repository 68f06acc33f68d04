import Testing
import Trust

/// The stored-node algorithms against the RFC's own recursion, and their cost at a million leaves.
@Suite("Merkle tree from stored nodes")
struct MerkleScaleTests {
    /// RFC 9162 §2.1 as written: every hash recomputed from the leaves.
    struct Reference {
        var leaves: [[UInt8]]

        func hash(_ start: Int, _ end: Int) -> [UInt8] {
            let count = end - start
            if count == 0 { return MerkleHash.emptyRoot }
            if count == 1 { return leaves[start] }
            let split = Self.split(count)
            return MerkleHash.node(hash(start, start + split), hash(start + split, end))
        }

        func path(_ index: Int, _ start: Int, _ end: Int) -> [[UInt8]] {
            let count = end - start
            if count <= 1 { return [] }
            let split = Self.split(count)
            if index < split { return path(index, start, start + split) + [hash(start + split, end)] }
            return path(index - split, start + split, end) + [hash(start, start + split)]
        }

        func subproof(_ m: Int, _ start: Int, _ end: Int, _ whole: Bool) -> [[UInt8]] {
            let count = end - start
            if m == count { return whole ? [] : [hash(start, end)] }
            let split = Self.split(count)
            if m <= split { return subproof(m, start, start + split, whole) + [hash(start + split, end)] }
            return subproof(m - split, start + split, end, false) + [hash(start, start + split)]
        }

        static func split(_ n: Int) -> Int {
            var k = 1
            while k << 1 < n { k <<= 1 }
            return k
        }
    }

    @Test("roots, inclusion and consistency proofs equal the RFC recursion for every size 1-70")
    func equalsReference() throws {
        var tree = MerkleTree()
        var range = MerkleCompactRange()
        var leaves: [[UInt8]] = []
        for size in 1...70 {
            let leaf = MerkleHash.leaf(Array("leaf \(size)".utf8))
            leaves.append(leaf)
            tree.append(leafHash: leaf)
            range.append(leafHash: leaf)
            let reference = Reference(leaves: leaves)
            #expect(tree.root == reference.hash(0, size))
            #expect(range.root == reference.hash(0, size), "size \(size)")
            #expect(range.hashes.count == size.nonzeroBitCount)
            for old in 1...size {
                #expect(try tree.root(size: old) == reference.hash(0, old))
                #expect(try tree.consistencyProof(from: old, to: size) == reference.subproof(old, 0, size, true))
            }
            for index in 0..<size {
                #expect(try tree.inclusionProof(index: index, size: size) == reference.path(index, 0, size))
            }
        }
        #expect(MerkleTree(leafHashes: tree.leafHashes) == tree)
    }

    @Test("a compact range read back from its coordinates is the same range; a wrong one is refused")
    func compactRangeRoundTrip() throws {
        var range = MerkleCompactRange()
        var leaves: [[UInt8]] = []
        for i in 0..<45 {
            leaves.append(MerkleHash.leaf([UInt8(i)]))
            range.append(leafHash: leaves[i])
        }
        let reference = Reference(leaves: leaves)
        let coordinates = MerkleCompactRange.coordinates(size: 45)
        #expect(coordinates.map(\.level) == [5, 3, 2, 0])
        #expect(coordinates.map(\.index) == [0, 4, 10, 44])
        let stored = coordinates.map { reference.hash($0.index << $0.level, ($0.index + 1) << $0.level) }
        #expect(try MerkleCompactRange(size: 45, hashes: stored) == range)
        var subtrees = MerkleSubtrees<Never>(size: 45) { level, index in
            reference.hash(index << level, (index + 1) << level)
        }
        #expect(subtrees.root() == reference.hash(0, 45))
        #expect(subtrees.inclusionProof(index: 44) == reference.path(44, 0, 45))
        #expect(throws: MerkleProofError.wrongProofLength(expected: 4, actual: 3)) {
            try MerkleCompactRange(size: 45, hashes: Array(stored.dropLast()))
        }
        #expect(throws: MerkleProofError.wrongHashLength(what: "compact range node", length: 3)) {
            try MerkleCompactRange(size: 45, hashes: stored.dropLast() + [[1, 2, 3]])
        }
    }

    /// Node reads one fresh `MerkleSubtrees` makes for `body` (as the broker makes one per request).
    static func reads(size: Int, _ body: (inout MerkleSubtrees<Never>) -> Void) -> Int {
        var count = 0
        var subtrees = MerkleSubtrees<Never>(size: size) { _, _ in
            count += 1
            return MerkleHash.emptyRoot  // only the number of reads matters here
        }
        body(&subtrees)
        return count
    }

    @Test("at 1,000,000 leaves an append makes at most 20 node hashes and a proof reads at most 2 log2(n) + 2 nodes")
    func millionLeaves() throws {
        var range = MerkleCompactRange()
        var tree = MerkleTree()
        var mostMade = 0
        var totalMade = 0
        var checked: [Int] = []
        for i in 0..<1_000_000 {
            let leaf = MerkleHash.leaf(withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) })
            let made = range.append(leafHash: leaf).count
            tree.append(leafHash: leaf)
            mostMade = max(mostMade, made)
            totalMade += made
            let size = i + 1
            guard [1_000, 100_000, 1_000_000].contains(size) else { continue }
            checked.append(size)
            #expect(range.root == tree.root)
            let log2 = Int.bitWidth - size.leadingZeroBitCount
            // The root folds one node per set bit of the size; the append's own hashes are `made`.
            #expect(range.hashes.count == size.nonzeroBitCount)
            #expect(Self.reads(size: size) { _ = $0.root() } == size.nonzeroBitCount)
            for index in [0, size / 3, size - 1] {
                let reads = Self.reads(size: size) { _ = $0.inclusionProof(index: index) }
                #expect(reads <= 2 * log2 + 2, "inclusion of \(index) at \(size): \(reads) reads")
            }
            for old in [1, size / 2 + 1, size - 1] {
                let reads = Self.reads(size: size) { _ = $0.consistencyProof(from: old) }
                #expect(reads <= 2 * log2 + 2, "consistency from \(old) at \(size): \(reads) reads")
            }
            let proof = try tree.inclusionProof(index: size / 3, size: size)
            try MerkleProof.verifyInclusion(
                leafHash: try tree.leafHash(at: size / 3), index: UInt64(size / 3), treeSize: UInt64(size),
                proof: proof, root: range.root)
        }
        #expect(checked == [1_000, 100_000, 1_000_000])
        // n − popcount(n) interior nodes in all: under one hash per append on average, at most 20 at once.
        #expect(totalMade == 1_000_000 - 1_000_000.nonzeroBitCount)
        #expect(mostMade <= 20)
    }
}
