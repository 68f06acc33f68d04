#if _endian(big)
    #error("EmbeddingCodec copies floats as little-endian bytes")
#endif

/// The body of an embedding pipeline's result: the embedding as little-endian float32 values,
/// no header. The postprocessor encodes it (into the secret memory its result is sealed from);
/// a client decodes it from the result it opened.
public enum EmbeddingCodec {
    /// Bytes of the encoding of `count` floats.
    public static func encodedCount(_ count: Int) -> Int { 4 * count }

    /// Encodes `values` into `buffer`, which must hold exactly `encodedCount(values.count)` bytes.
    public static func encode(_ values: [Float], into buffer: UnsafeMutableRawBufferPointer) {
        precondition(
            buffer.count == encodedCount(values.count), "EmbeddingCodec: the buffer is not the encoding's size")
        values.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    /// Encodes `values` as a result body.
    public static func encode(_ values: [Float]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    /// The body read as floats, or `nil` if its length is not a multiple of 4.
    public static func decode(_ body: [UInt8]) -> [Float]? {
        guard body.count % 4 == 0 else { return nil }
        return [Float](unsafeUninitializedCapacity: body.count / 4) { out, initialized in
            body.withUnsafeBytes { UnsafeMutableRawBufferPointer(out).copyMemory(from: $0) }
            initialized = body.count / 4
        }
    }
}
