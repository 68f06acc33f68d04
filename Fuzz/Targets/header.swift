import Wire

/// The fixed message header, and whole pipeline messages (frame counts by type).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let header = try? MessageHeader(decoding: bytes) {
        // One encoding per header: what decodes encodes back to the same bytes.
        precondition(header.encoded() == bytes, "header did not round-trip")
    }
    let frames = FuzzInput.frames(bytes)
    if let message = try? PipelineMessage(frames: frames) {
        precondition(message.frames == frames, "message did not round-trip")
        precondition(frames.count <= PipelineMessage.maximumFrameCount, "a message longer than any type allows")
    }
    return 0
}
