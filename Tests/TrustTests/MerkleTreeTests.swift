import Foundation
import TestVectors
import Testing
import Trust

@Suite("RFC 9162 Merkle tree")
struct MerkleTreeTests {
    struct TreeVectors: Decodable {
        struct Primitive: Decodable {
            var op: String
            var inputHex: String?
            var leftHex: String?
            var rightHex: String?
            var want: String
        }
        struct Inclusion: Decodable {
            var leafIndex: Int
            var treeSize: Int
            var leafHash: String
            var root: String
            var proof: [String]
            var expect: String
        }
        struct Consistency: Decodable {
            var size1: Int
            var size2: Int
            var root1: String
            var root2: String
            var proof: [String]
            var expect: String
        }
        var hasherPrimitives: [Primitive]
        var leavesHex: [String]
        var nodeHashesByLevel: [[String]]
        var rootByTreeSize: [String: String]
        var inclusionProofs: [Inclusion]
        var consistencyProofs: [Consistency]
    }

    static func treeVectors() throws -> TreeVectors {
        let data = try Data(contentsOf: TestVectors.url("merkle/rfc6962_tree_vectors.json"))
        // The file's keys are snake_case.
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TreeVectors.self, from: data)
    }

    @Test("hasher primitives and the empty root")
    func primitives() throws {
        let vectors = try Self.treeVectors()
        #expect(vectors.hasherPrimitives.count == 4)
        for primitive in vectors.hasherPrimitives {
            switch primitive.op {
            case "empty_root": #expect(hexString(MerkleHash.emptyRoot) == primitive.want)
            case "leaf_hash": #expect(hexString(MerkleHash.leaf(hex(primitive.inputHex!))) == primitive.want)
            case "node_hash":
                #expect(
                    hexString(MerkleHash.node(hex(primitive.leftHex!), hex(primitive.rightHex!))) == primitive.want)
            default: Issue.record("unknown primitive \(primitive.op)")
            }
        }
    }

    @Test("roots of every size 0-8 and the level-0 nodes")
    func roots() throws {
        let vectors = try Self.treeVectors()
        var tree = MerkleTree()
        #expect(hexString(tree.root) == vectors.rootByTreeSize["0"])
        for (i, leaf) in vectors.leavesHex.enumerated() {
            tree.append(leafData: hex(leaf))
            #expect(hexString(tree.leafHashes[i]) == vectors.nodeHashesByLevel[0][i])
            #expect(hexString(tree.root) == vectors.rootByTreeSize["\(i + 1)"], "size \(i + 1)")
        }
        #expect(vectors.rootByTreeSize.count == 9)
        for (size, root) in vectors.rootByTreeSize {
            #expect(hexString(try tree.root(size: Int(size)!)) == root)
        }
    }

    @Test("RFC inclusion and consistency vectors are generated and verified")
    func rfcProofs() throws {
        let vectors = try Self.treeVectors()
        var tree = MerkleTree()
        for leaf in vectors.leavesHex { tree.append(leafData: hex(leaf)) }
        #expect(vectors.inclusionProofs.count == 5)
        for vector in vectors.inclusionProofs {
            #expect(vector.expect == "valid")
            let generated = try tree.inclusionProof(index: vector.leafIndex, size: vector.treeSize)
            #expect(generated.map(hexString) == vector.proof)
            try MerkleProof.verifyInclusion(
                leafHash: hex(vector.leafHash), index: UInt64(vector.leafIndex), treeSize: UInt64(vector.treeSize),
                proof: vector.proof.map(hex), root: hex(vector.root))
        }
        #expect(vectors.consistencyProofs.count == 5)
        for vector in vectors.consistencyProofs {
            let generated = try tree.consistencyProof(from: vector.size1, to: vector.size2)
            #expect(generated.map(hexString) == vector.proof)
            try MerkleProof.verifyConsistency(
                size1: UInt64(vector.size1), size2: UInt64(vector.size2), root1: hex(vector.root1),
                root2: hex(vector.root2), proof: vector.proof.map(hex))
        }
    }

    struct Probe: Decodable {
        var leafIdx: UInt64?
        var treeSize: UInt64?
        var root: String?
        var leafHash: String?
        var size1: UInt64?
        var size2: UInt64?
        var root1: String?
        var root2: String?
        var proof: [String]?
        var desc: String
        var wantErr: Bool
    }

    static func probeFiles() -> [URL] {
        let base = TestVectors.url("merkle/transparency-dev")
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
            return []
        }
        return enumerator.compactMap { $0 as? URL }.filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
    }

    @Test("all 196 transparency-dev probes give their expected verdict")
    func transparencyDevProbes() throws {
        let files = Self.probeFiles()
        #expect(files.count == 196)
        var accepted = 0
        for file in files {
            let probe = try JSONDecoder().decode(Probe.self, from: Data(contentsOf: file))
            let b64: (String?) -> [UInt8] = { [UInt8](Data(base64Encoded: $0 ?? "")!) }
            let proof = (probe.proof ?? []).map { b64($0) }
            let failed: Bool
            if file.path.contains("/inclusion/") {
                let index = probe.leafIdx!
                let size = probe.treeSize!
                do {
                    try MerkleProof.verifyInclusion(
                        leafHash: b64(probe.leafHash), index: index, treeSize: size, proof: proof,
                        root: b64(probe.root))
                    failed = false
                } catch { failed = true }
            } else {
                let size1 = probe.size1!
                let size2 = probe.size2!
                do {
                    try MerkleProof.verifyConsistency(
                        size1: size1, size2: size2, root1: b64(probe.root1), root2: b64(probe.root2),
                        proof: proof)
                    failed = false
                } catch { failed = true }
            }
            #expect(failed == probe.wantErr, "\(file.path): \(probe.desc)")
            if !failed { accepted += 1 }
        }
        #expect(accepted == 12)
    }

    @Test("every generated proof verifies and every tampered one is refused, sizes 1-40")
    func generatedProofs() throws {
        var tree = MerkleTree()
        for i in 0..<40 { tree.append(leafData: Array("entry \(i)".utf8)) }
        for size in 1...40 {
            let root = try tree.root(size: size)
            for index in 0..<size {
                let proof = try tree.inclusionProof(index: index, size: size)
                try MerkleProof.verifyInclusion(
                    leafHash: tree.leafHashes[index], index: UInt64(index), treeSize: UInt64(size), proof: proof,
                    root: root)
                #expect(throws: MerkleProofError.self) {
                    try MerkleProof.verifyInclusion(
                        leafHash: tree.leafHashes[(index + 1) % 40], index: UInt64(index), treeSize: UInt64(size),
                        proof: proof, root: root)
                }
                if !proof.isEmpty {
                    var tampered = proof
                    tampered[tampered.count - 1][0] ^= 1
                    #expect(throws: MerkleProofError.self) {
                        try MerkleProof.verifyInclusion(
                            leafHash: tree.leafHashes[index], index: UInt64(index), treeSize: UInt64(size),
                            proof: tampered,
                            root: root)
                    }
                }
            }
            for oldSize in 1...size {
                let proof = try tree.consistencyProof(from: oldSize, to: size)
                let oldRoot = try tree.root(size: oldSize)
                try MerkleProof.verifyConsistency(
                    size1: UInt64(oldSize), size2: UInt64(size), root1: oldRoot, root2: root, proof: proof)
                var wrongOldRoot = oldRoot
                wrongOldRoot[31] ^= 1
                #expect(throws: MerkleProofError.self) {
                    try MerkleProof.verifyConsistency(
                        size1: UInt64(oldSize), size2: UInt64(size), root1: wrongOldRoot, root2: root, proof: proof)
                }
                var wrongNewRoot = root
                wrongNewRoot[0] ^= 1
                #expect(throws: MerkleProofError.self) {
                    try MerkleProof.verifyConsistency(
                        size1: UInt64(oldSize), size2: UInt64(size), root1: oldRoot, root2: wrongNewRoot, proof: proof)
                }
                if oldSize < size {
                    var tampered = proof
                    tampered[0][5] ^= 0x80
                    #expect(throws: MerkleProofError.self) {
                        try MerkleProof.verifyConsistency(
                            size1: UInt64(oldSize), size2: UInt64(size), root1: oldRoot, root2: root, proof: tampered)
                    }
                }
            }
        }
    }
}
