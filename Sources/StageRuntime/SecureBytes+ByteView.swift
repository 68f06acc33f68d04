public import Sodium
public import Wire

// `Wire` knows no `Sodium` (it is below it); this is where the two meet, so the wire's encoders
// can read bodies straight from secret memory.
extension SecureBytes: ByteView {
    public func withByteView<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUnsafeBytes(body) }
}

extension SecureBytes {
    /// Secret memory of exactly `count` bytes filled by `encode` through a `RawByteWriter`: an
    /// outgoing plaintext encoded where it will be sealed from, never in an ordinary array.
    static func encoding(count: Int, _ encode: (inout RawByteWriter) -> Void) -> SecureBytes {
        let secure = SecureBytes(count: count)
        secure.withUnsafeMutableBytes { buffer in
            var writer = RawByteWriter(buffer)
            encode(&writer)
            precondition(writer.isFull, "the encoding is shorter than the size its layout gives")
        }
        return secure
    }
}
