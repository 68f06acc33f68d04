import Sodium
import Trust

/// What the key broker reads from any peer (requests), what nodes read back (responses), and the
/// key bundle a node opens.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    _ = try? KMSRequest(decoding: bytes)
    _ = try? KMSResponse(decoding: bytes)
    let secure = SecureBytes(count: bytes.count)
    secure.withUnsafeMutableBytes { buffer in
        if !bytes.isEmpty { buffer.copyBytes(from: bytes) }
    }
    _ = try? KeyBundle(decoding: secure)
    return 0
}
