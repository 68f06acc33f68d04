import Inference

/// The tensors stages pass each other inside sealed hops (token ids, hidden states, embeddings), and
/// the embedding body a client reads from its result.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let payload = try? TensorCodec.decode(bytes) {
        precondition(TensorCodec.encode(payload) == bytes, "tensor payload did not round-trip")
    }
    if let values = EmbeddingCodec.decode(bytes) {
        precondition(EmbeddingCodec.encode(values) == bytes, "embedding body did not round-trip")
    }
    return 0
}
