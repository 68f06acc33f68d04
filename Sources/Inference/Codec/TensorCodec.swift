#if _endian(big)
    #error("TensorCodec copies floats and integers as little-endian bytes")
#endif

/// The compact, versioned binary encoding of `StagePayload`.
///
/// Layout, all little-endian:
/// ```
/// 0   4  magic "SPTN"
/// 4   1  version (1)
/// 5   1  kind: 1 token ids, 2 hidden states, 3 embeddings
/// 6   2  reserved, zero
/// 8   4  batch size B (u32)
/// 12  4  width: 0 for token ids, hidden size, or embedding dimension (u32)
/// 16  4B lengths (u32 each) for token ids and hidden states; absent for embeddings
/// ..     payload: i32 ids, or f32 values [Σlengths × width], or f32 [B × width]
/// ```
/// The decoder checks every dimension against a limit before multiplying, requires the exact
/// byte count, and refuses negative ids and non-finite floats.
public enum TensorCodec {
    public static let magic: [UInt8] = Array("SPTN".utf8)
    public static let version: UInt8 = 1
    public static let headerSize = 16
    /// Largest batch accepted.
    public static let maximumBatch: UInt32 = 1 << 16
    /// Largest sequence length and width accepted.
    public static let maximumDimension: UInt32 = 1 << 16
    /// Largest element count accepted (1 GiB of floats).
    public static let maximumElements = 1 << 28

    enum Kind: UInt8 {
        case tokenIDs = 1
        case hiddenStates = 2
        case embeddings = 3
    }

    /// Bytes of `payload`'s encoding (so a caller can encode into memory it sized, e.g. secret memory).
    public static func encodedCount(_ payload: StagePayload) -> Int {
        switch payload {
        case .tokenIDs(let sequences): headerSize + 4 * sequences.count + 4 * sequences.reduce(0) { $0 + $1.count }
        case .hiddenStates(let states): headerSize + 4 * states.batchSize + 4 * states.values.count
        case .embeddings(let dimension, let vectors): headerSize + 4 * dimension * vectors.count
        }
    }

    /// Encodes a payload. Embedding vectors must all have `dimension` floats.
    public static func encode(_ payload: StagePayload) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: encodedCount(payload)) { buffer, initialized in
            encode(payload, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = buffer.count
        }
    }

    /// Encodes a payload into `buffer`, which must hold exactly `encodedCount(payload)` bytes.
    public static func encode(_ payload: StagePayload, into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count == encodedCount(payload), "TensorCodec: the buffer is not the encoding's size")
        var offset = 0
        func append(_ raw: UnsafeRawBufferPointer) {
            if raw.count > 0 { (buffer.baseAddress! + offset).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            offset += raw.count
        }
        func appendU32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { append($0) } }
        func appendRaw<T: BitwiseCopyable>(_ values: [T]) { values.withUnsafeBytes { append($0) } }
        func header(_ kind: Kind, batch: Int, width: Int) {
            (magic + [version, kind.rawValue, 0, 0]).withUnsafeBytes { append($0) }
            appendU32(UInt32(batch))
            appendU32(UInt32(width))
        }
        switch payload {
        case .tokenIDs(let sequences):
            header(.tokenIDs, batch: sequences.count, width: 0)
            for sequence in sequences { appendU32(UInt32(sequence.count)) }
            for sequence in sequences { appendRaw(sequence) }
        case .hiddenStates(let states):
            header(.hiddenStates, batch: states.batchSize, width: states.hiddenSize)
            for length in states.lengths { appendU32(UInt32(length)) }
            appendRaw(states.values)
        case .embeddings(let dimension, let vectors):
            precondition(vectors.allSatisfy { $0.count == dimension }, "TensorCodec: vector of the wrong dimension")
            header(.embeddings, batch: vectors.count, width: dimension)
            for vector in vectors { appendRaw(vector) }
        }
    }

    /// Decodes and validates a payload; throws on anything but a well-formed encoding.
    public static func decode(_ bytes: [UInt8]) throws(TensorCodecError) -> StagePayload {
        try bytes.withUnsafeBytes { raw in
            Result { () throws(TensorCodecError) in try decode(raw: raw) }
        }.get()
    }

    /// Decodes and validates a payload read in place (e.g. from secret memory); throws on anything
    /// but a well-formed encoding.
    public static func decode(raw bytes: UnsafeRawBufferPointer) throws(TensorCodecError) -> StagePayload {
        guard bytes.count >= headerSize else { throw .truncated(needed: headerSize, actual: bytes.count) }
        guard bytes.prefix(4).elementsEqual(magic) else { throw .badMagic }
        guard bytes[4] == version else { throw .unsupportedVersion(bytes[4]) }
        guard let kind = Kind(rawValue: bytes[5]) else { throw .unknownKind(bytes[5]) }
        guard bytes[6] == 0, bytes[7] == 0 else { throw .reservedBitsSet }
        let batch = readU32(bytes, at: 8)
        let width = readU32(bytes, at: 12)
        guard batch <= maximumBatch else {
            throw .dimensionOutOfRange(what: "batch", value: batch, limit: maximumBatch)
        }
        switch kind {
        case .tokenIDs:
            guard width == 0 else { throw .dimensionOutOfRange(what: "width", value: width, limit: 0) }
            let lengths = try readLengths(bytes, count: Int(batch))
            let total = lengths.reduce(0, +)
            let start = headerSize + 4 * Int(batch)
            try expectSize(bytes, start + 4 * total)
            let ids: [Int32] = readRaw(bytes, at: start, count: total)
            var sequences: [[Int32]] = []
            sequences.reserveCapacity(lengths.count)
            var offset = 0
            for (sequence, length) in lengths.enumerated() {
                let slice = ids[offset..<(offset + length)]
                if let bad = slice.firstIndex(where: { $0 < 0 }) {
                    throw .negativeTokenID(sequence: sequence, position: bad - offset)
                }
                sequences.append(Array(slice))
                offset += length
            }
            return .tokenIDs(sequences)
        case .hiddenStates:
            try checkWidth(width)
            let lengths = try readLengths(bytes, count: Int(batch))
            let total = lengths.reduce(0, +)
            let (elements, overflow) = total.multipliedReportingOverflow(by: Int(width))
            guard !overflow, elements <= maximumElements else {
                throw .dimensionOutOfRange(
                    what: "elements", value: UInt32(clamping: elements), limit: UInt32(maximumElements))
            }
            let start = headerSize + 4 * Int(batch)
            try expectSize(bytes, start + 4 * elements)
            let values: [Float] = try finite(readRaw(bytes, at: start, count: elements))
            return .hiddenStates(HiddenStates(hiddenSize: Int(width), lengths: lengths, values: values))
        case .embeddings:
            try checkWidth(width)
            let elements = Int(batch) * Int(width)
            guard elements <= maximumElements else {
                throw .dimensionOutOfRange(
                    what: "elements", value: UInt32(clamping: elements), limit: UInt32(maximumElements))
            }
            try expectSize(bytes, headerSize + 4 * elements)
            let values: [Float] = try finite(readRaw(bytes, at: headerSize, count: elements))
            let vectors = (0..<Int(batch)).map { Array(values[($0 * Int(width))..<(($0 + 1) * Int(width))]) }
            return .embeddings(dimension: Int(width), vectors: vectors)
        }
    }

    private static func checkWidth(_ width: UInt32) throws(TensorCodecError) {
        guard width >= 1, width <= maximumDimension else {
            throw .dimensionOutOfRange(what: "width", value: width, limit: maximumDimension)
        }
    }

    private static func readLengths(_ bytes: UnsafeRawBufferPointer, count: Int) throws(TensorCodecError) -> [Int] {
        let end = headerSize + 4 * count
        guard bytes.count >= end else { throw .truncated(needed: end, actual: bytes.count) }
        var lengths: [Int] = []
        lengths.reserveCapacity(count)
        var total = 0
        for index in 0..<count {
            let length = readU32(bytes, at: headerSize + 4 * index)
            guard length <= maximumDimension else {
                throw .dimensionOutOfRange(what: "lengths[\(index)]", value: length, limit: maximumDimension)
            }
            total += Int(length)
            guard total <= maximumElements else {
                throw .dimensionOutOfRange(
                    what: "total length", value: UInt32(clamping: total), limit: UInt32(maximumElements))
            }
            lengths.append(Int(length))
        }
        return lengths
    }

    private static func expectSize(_ bytes: UnsafeRawBufferPointer, _ expected: Int) throws(TensorCodecError) {
        if bytes.count < expected { throw .truncated(needed: expected, actual: bytes.count) }
        if bytes.count > expected { throw .trailingBytes(expected: expected, actual: bytes.count) }
    }

    private static func finite(_ values: [Float]) throws(TensorCodecError) -> [Float] {
        if let bad = values.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteValue(index: bad) }
        return values
    }

    private static func readU32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
            | UInt32(bytes[offset + 3]) << 24
    }

    private static func readRaw<T: BitwiseCopyable>(
        _ bytes: UnsafeRawBufferPointer, at offset: Int, count: Int
    ) -> [T] {
        [T](unsafeUninitializedCapacity: count) { out, initialized in
            UnsafeMutableRawBufferPointer(out).copyMemory(
                from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count * MemoryLayout<T>.stride)]))
            initialized = count
        }
    }
}
