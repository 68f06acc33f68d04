import Inference

/// The tensors stages pass each other inside sealed hops (token ids, hidden states, embeddings).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let payload = try? TensorCodec.decode(bytes) {
        precondition(TensorCodec.encode(payload) == bytes, "tensor payload did not round-trip")
    }
    return 0
}
