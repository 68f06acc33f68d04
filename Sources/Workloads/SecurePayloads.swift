public import Inference
public import Sodium

/// The stage codecs over secret memory: a workload decodes its input where the hop was opened
/// into and encodes its output where it will be sealed from, so the bytes never pass through an
/// ordinary array. (The model's own tensors in between are outside this guarantee.)
public enum SecurePayloads {
    /// Decodes a stage payload in place.
    public static func decode(_ input: SecureBytes) throws(TensorCodecError) -> StagePayload {
        try input.withUnsafeBytes { (raw) throws(TensorCodecError) in try TensorCodec.decode(raw: raw) }
    }

    /// Encodes a stage payload into new secret memory.
    public static func encode(_ payload: StagePayload) -> SecureBytes {
        let output = SecureBytes(count: TensorCodec.encodedCount(payload))
        output.withUnsafeMutableBytes { TensorCodec.encode(payload, into: $0) }
        return output
    }

    /// Encodes an embedding as a result body into new secret memory.
    public static func encode(embedding: [Float]) -> SecureBytes {
        let output = SecureBytes(count: EmbeddingCodec.encodedCount(embedding.count))
        output.withUnsafeMutableBytes { EmbeddingCodec.encode(embedding, into: $0) }
        return output
    }
}
