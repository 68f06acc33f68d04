import Sodium
import Testing
import Trust

@Suite("Sealed weights")
struct WeightSealerTests {
    static let tensors: [String: PlainTensor] = [
        "layer.0.weight": PlainTensor(dtype: "F32", shape: [4, 3], bytes: (0..<48).map { UInt8($0) }),
        "layer.0.bias": PlainTensor(dtype: "F32", shape: [3], bytes: (0..<12).map { UInt8(200 + $0) }),
        "empty": PlainTensor(dtype: "F16", shape: [0], bytes: []),
    ]

    @Test("sealed tensors open back to the same names, shapes and bytes")
    func roundTrip() throws {
        let key = SecureBytes.random(count: 32)
        let file = try WeightSealer.seal(shard: 0, role: "shard-0", tensors: Self.tensors, key: key, chunkSize: 16)
        let opened = try WeightSealer.open(file, role: "shard-0", key: key)
        #expect(opened.tensors.count == 3)
        for (name, tensor) in Self.tensors {
            #expect(opened.tensors[name]?.shape == tensor.shape)
            #expect(opened.tensors[name]?.dtype == tensor.dtype)
            #expect(try opened.copyBytes(of: name) == tensor.bytes)
        }
        #expect(try opened.withBytes(of: "layer.0.bias") { Array($0) } == Self.tensors["layer.0.bias"]!.bytes)
        #expect(throws: SealedWeightsError.unknownTensor("nope")) { try opened.copyBytes(of: "nope") }
        // The plaintext never appears in the file.
        let weights = Self.tensors["layer.0.weight"]!.bytes
        #expect(!contains(file, Array(weights[0..<16])))
    }

    @Test("a wrong key, another shard's role, and a wrong key length are refused")
    func wrongKeyOrShard() throws {
        let key = SecureBytes.random(count: 32)
        let file = try WeightSealer.seal(shard: 1, role: "shard-1", tensors: Self.tensors, key: key, chunkSize: 16)
        #expect(throws: SealedWeightsError.couldNotOpen(chunk: 0)) {
            try WeightSealer.open(file, role: "shard-1", key: .random(count: 32))
        }
        #expect(throws: SealedWeightsError.wrongShard(expected: "shard-0", found: "shard-1")) {
            try WeightSealer.open(file, role: "shard-0", key: key)
        }
        #expect(throws: SealedWeightsError.wrongKeyLength(16)) {
            try WeightSealer.open(file, role: "shard-1", key: .random(count: 16))
        }
    }

    @Test("tampered, reordered, truncated, extended and transplanted chunks are refused")
    func tampering() throws {
        let key = SecureBytes.random(count: 32)
        let chunk = 16
        let file = try WeightSealer.seal(shard: 0, role: "shard-0", tensors: Self.tensors, key: key, chunkSize: chunk)
        let sealedChunk = chunk + 16
        let bodyStart = file.count - (file.count - headerEnd(file))
        let chunkCount = (file.count - bodyStart + sealedChunk - 1) / sealedChunk
        #expect(chunkCount > 3)

        var flipped = file
        flipped[bodyStart + sealedChunk + 3] ^= 1
        #expect(throws: SealedWeightsError.couldNotOpen(chunk: 1)) {
            try WeightSealer.open(flipped, role: "shard-0", key: key)
        }

        var swapped = file
        swapped.replaceSubrange(
            bodyStart..<bodyStart + sealedChunk, with: file[bodyStart + sealedChunk..<bodyStart + 2 * sealedChunk])
        swapped.replaceSubrange(
            bodyStart + sealedChunk..<bodyStart + 2 * sealedChunk, with: file[bodyStart..<bodyStart + sealedChunk])
        #expect(throws: SealedWeightsError.couldNotOpen(chunk: 0)) {
            try WeightSealer.open(swapped, role: "shard-0", key: key)
        }

        #expect(throws: SealedWeightsError.self) {
            try WeightSealer.open(Array(file.dropLast(1)), role: "shard-0", key: key)
        }
        #expect(throws: SealedWeightsError.self) { try WeightSealer.open(file + [0], role: "shard-0", key: key) }

        // Dropping the last chunk and rewriting the header to claim fewer chunks changes the
        // header digest, so every chunk then fails.
        var header = file
        header[headerEnd(file) - 17] ^= 1  // inside the chunk count
        #expect(throws: SealedWeightsError.self) { try WeightSealer.open(header, role: "shard-0", key: key) }
        var salted = file
        salted[headerEnd(file) - 1] ^= 1  // last salt byte
        #expect(throws: SealedWeightsError.couldNotOpen(chunk: 0)) {
            try WeightSealer.open(salted, role: "shard-0", key: key)
        }

        // The same tensors and key sealed for another shard: its chunks do not open here.
        let other = try WeightSealer.seal(shard: 0, role: "shard-0", tensors: Self.tensors, key: key, chunkSize: chunk)
        var transplanted = file
        transplanted.replaceSubrange(
            bodyStart..<bodyStart + sealedChunk, with: other[bodyStart..<bodyStart + sealedChunk])
        #expect(throws: SealedWeightsError.couldNotOpen(chunk: 0)) {
            try WeightSealer.open(transplanted, role: "shard-0", key: key)
        }
    }

    @Test("a multi-megabyte tensor crosses 1 MiB chunk boundaries and opens whole")
    func defaultChunks() throws {
        let key = SecureBytes.random(count: 32)
        let big = (0..<(5 << 19)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let file = try WeightSealer.seal(
            shard: 2, role: "shard-2", tensors: ["w": PlainTensor(dtype: "U8", shape: [big.count], bytes: big)],
            key: key)
        #expect(file.count > big.count + 3 * 16)
        #expect(try WeightSealer.open(file, role: "shard-2", key: key).copyBytes(of: "w") == big)
        #expect(throws: SealedWeightsError.self) {
            try WeightSealer.open(Array(file.dropLast(1 << 19)), role: "shard-2", key: key)
        }
    }

    @Test("the weight key id is stable per key and differs between keys")
    func keyID() {
        let key = SecureBytes.random(count: 32)
        #expect(WeightSealer.keyID(of: key) == WeightSealer.keyID(of: SecureBytes(copying: key.copyBytes())))
        #expect(WeightSealer.keyID(of: key) != WeightSealer.keyID(of: .random(count: 32)))
        #expect(WeightSealer.keyID(of: key).count == 16)
    }

    func headerEnd(_ file: [UInt8]) -> Int {
        4 + (Int(file[0]) << 24 | Int(file[1]) << 16 | Int(file[2]) << 8 | Int(file[3]))
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
            return true
        }
        return false
    }
}
