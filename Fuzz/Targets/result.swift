import Wire

/// A job's result as the last stage seals it for the client.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let result = try? JobResult(decoding: bytes) {
        precondition(result.encoded() == bytes, "job result did not round-trip")
    }
    return 0
}
