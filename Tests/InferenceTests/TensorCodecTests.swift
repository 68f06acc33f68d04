import Testing

@testable import Inference

@Suite("TensorCodec", .timeLimit(.minutes(1)))
struct TensorCodecTests {
    static let states = HiddenStates(hiddenSize: 3, lengths: [2, 1], values: [1, 2, 3, 4, 5, 6, -7, 0.5, 1e-30])

    @Test(arguments: [
        StagePayload.tokenIDs([[101, 7592, 102], [101, 102], []]),
        StagePayload.tokenIDs([]),
        StagePayload.hiddenStates(states),
        StagePayload.embeddings(dimension: 2, vectors: [[0.6, 0.8], [-1, 0]]),
        StagePayload.embeddings(dimension: 4, vectors: []),
    ])
    func roundTrips(payload: StagePayload) throws {
        let bytes = TensorCodec.encode(payload)
        #expect(try TensorCodec.decode(bytes) == payload)
        // Encoded into a caller's buffer and decoded in place, as a stage does in secret memory.
        var fixed = [UInt8](repeating: 0, count: TensorCodec.encodedCount(payload))
        fixed.withUnsafeMutableBytes { TensorCodec.encode(payload, into: $0) }
        #expect(fixed == bytes)
        #expect(try fixed.withUnsafeBytes { try TensorCodec.decode(raw: $0) } == payload)
    }

    /// The embedding result body: little-endian float32, nothing else (what `sealpipe submit` reads).
    @Test func embeddingBodies() {
        let values: [Float] = [0.5, -1, .pi]
        let body = EmbeddingCodec.encode(values)
        #expect(body == [0, 0, 0, 0x3f, 0, 0, 0x80, 0xbf, 0xda, 0x0f, 0x49, 0x40])
        #expect(EmbeddingCodec.decode(body) == values)
        #expect(EmbeddingCodec.decode([1, 2, 3]) == nil)
        var fixed = [UInt8](repeating: 0, count: EmbeddingCodec.encodedCount(values.count))
        fixed.withUnsafeMutableBytes { EmbeddingCodec.encode(values, into: $0) }
        #expect(fixed == body)
    }

    @Test func hasTheDocumentedLayout() {
        let bytes = TensorCodec.encode(.tokenIDs([[101, 102]]))
        #expect(
            bytes == Array("SPTN".utf8) + [1, 1, 0, 0] + [1, 0, 0, 0] + [0, 0, 0, 0] + [2, 0, 0, 0]
                + [101, 0, 0, 0, 102, 0, 0, 0])
        let embedding = TensorCodec.encode(.embeddings(dimension: 1, vectors: [[1]]))
        #expect(embedding == Array("SPTN".utf8) + [1, 3, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x80, 0x3F])
    }

    /// Replaces bytes of a valid encoding.
    static func patched(_ payload: StagePayload, _ changes: [Int: UInt8]) -> [UInt8] {
        var bytes = TensorCodec.encode(payload)
        for (offset, value) in changes { bytes[offset] = value }
        return bytes
    }

    static func u32(_ value: UInt32, at offset: Int) -> [Int: UInt8] {
        [
            offset: UInt8(value & 0xFF), offset + 1: UInt8(value >> 8 & 0xFF), offset + 2: UInt8(value >> 16 & 0xFF),
            offset + 3: UInt8(value >> 24),
        ]
    }

    @Test func refusesShortInput() {
        #expect(throws: TensorCodecError.truncated(needed: 16, actual: 5)) { try TensorCodec.decode([1, 2, 3, 4, 5]) }
        let full = TensorCodec.encode(.hiddenStates(Self.states))
        #expect(throws: TensorCodecError.truncated(needed: full.count, actual: full.count - 1)) {
            try TensorCodec.decode(Array(full.dropLast()))
        }
        // Lengths announced but not present.
        let header = Array(TensorCodec.encode(.tokenIDs([[1], [2], [3]])).prefix(20))
        #expect(throws: TensorCodecError.truncated(needed: 28, actual: 20)) { try TensorCodec.decode(header) }
    }

    @Test func refusesTrailingBytes() {
        let bytes = TensorCodec.encode(.tokenIDs([[1, 2]])) + [0]
        #expect(throws: TensorCodecError.trailingBytes(expected: bytes.count - 1, actual: bytes.count)) {
            try TensorCodec.decode(bytes)
        }
    }

    @Test func refusesBadMagicVersionKindAndReservedBits() {
        let payload = StagePayload.tokenIDs([[1]])
        #expect(throws: TensorCodecError.badMagic) { try TensorCodec.decode(Self.patched(payload, [0: 0x54])) }
        #expect(throws: TensorCodecError.unsupportedVersion(2)) {
            try TensorCodec.decode(Self.patched(payload, [4: 2]))
        }
        #expect(throws: TensorCodecError.unsupportedVersion(0)) {
            try TensorCodec.decode(Self.patched(payload, [4: 0]))
        }
        #expect(throws: TensorCodecError.unknownKind(9)) { try TensorCodec.decode(Self.patched(payload, [5: 9])) }
        #expect(throws: TensorCodecError.reservedBitsSet) { try TensorCodec.decode(Self.patched(payload, [7: 1])) }
    }

    @Test func refusesOversizeDimensionsBeforeAllocating() {
        let tokens = StagePayload.tokenIDs([[1]])
        #expect(
            throws: TensorCodecError.dimensionOutOfRange(
                what: "batch", value: UInt32.max, limit: TensorCodec.maximumBatch)
        ) {
            try TensorCodec.decode(Self.patched(tokens, Self.u32(UInt32.max, at: 8)))
        }
        #expect(
            throws: TensorCodecError.dimensionOutOfRange(
                what: "lengths[0]", value: 0xFFFF_FFFF, limit: TensorCodec.maximumDimension)
        ) {
            try TensorCodec.decode(Self.patched(tokens, Self.u32(0xFFFF_FFFF, at: 16)))
        }
        #expect(throws: TensorCodecError.dimensionOutOfRange(what: "width", value: 3, limit: 0)) {
            try TensorCodec.decode(Self.patched(tokens, Self.u32(3, at: 12)))
        }
        let hidden = StagePayload.hiddenStates(Self.states)
        #expect(
            throws: TensorCodecError.dimensionOutOfRange(what: "width", value: 0, limit: TensorCodec.maximumDimension)
        ) {
            try TensorCodec.decode(Self.patched(hidden, Self.u32(0, at: 12)))
        }
        // Lengths and width each within limits, their product not: refused before any allocation.
        let huge = Self.patched(hidden, Self.u32(65_536, at: 12).merging(Self.u32(65_536, at: 16)) { $1 })
        #expect(
            throws: TensorCodecError.dimensionOutOfRange(
                what: "elements", value: UInt32(clamping: 65_537 * 65_536),
                limit: UInt32(TensorCodec.maximumElements))
        ) {
            try TensorCodec.decode(huge)
        }
    }

    @Test func refusesLengthsThatDisagreeWithThePayload() {
        // Claim 3 tokens in the first hidden sequence instead of 2: payload is one row short.
        let bytes = Self.patched(.hiddenStates(Self.states), Self.u32(3, at: 16))
        #expect(throws: TensorCodecError.truncated(needed: bytes.count + 12, actual: bytes.count)) {
            try TensorCodec.decode(bytes)
        }
    }

    @Test func refusesNonFiniteFloatsAndNegativeIDs() {
        let nan = StagePayload.embeddings(dimension: 2, vectors: [[0, .nan]])
        #expect(throws: TensorCodecError.nonFiniteValue(index: 1)) { try TensorCodec.decode(TensorCodec.encode(nan)) }
        let infinite = StagePayload.hiddenStates(HiddenStates(hiddenSize: 1, lengths: [2], values: [1, -.infinity]))
        #expect(throws: TensorCodecError.nonFiniteValue(index: 1)) {
            try TensorCodec.decode(TensorCodec.encode(infinite))
        }
        let negative = StagePayload.tokenIDs([[101, 102], [101, -5, 102]])
        #expect(throws: TensorCodecError.negativeTokenID(sequence: 1, position: 1)) {
            try TensorCodec.decode(TensorCodec.encode(negative))
        }
    }
}
