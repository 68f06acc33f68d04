/// The arithmetic of the encoder's linear layers (QKV, attention output, feed-forward in and
/// out). Everything else — embeddings, attention scores, softmax, GELU, LayerNorm, pooling —
/// stays fp32 in both.
public enum Precision: String, Sendable, CaseIterable, Codable {
    /// Single precision throughout; the default, cosine ≥ 0.9999 to sentence-transformers.
    case fp32
    /// s8 weights per output channel and u8 activations per row (oneDNN), dequantized into
    /// fp32; cosine ≥ 0.99 to fp32 (`docs/model.md`).
    case int8

    /// Parses a precision name (`fp32`, `int8`); throws naming the value and the known ones.
    public init(parsing text: String) throws(ModelError) {
        guard let precision = Precision(rawValue: text) else {
            let known = Precision.allCases.map(\.rawValue).joined(separator: ", ")
            throw .unsupported("precision \"\(text)\" (known: \(known))")
        }
        self = precision
    }
}
