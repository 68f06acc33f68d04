/// The arithmetic of an encoder stage's linear layers (the engine's `Inference.Precision`).
/// Part of the stage's measured configuration when not the default: it decides its results.
public enum StagePrecision: String, Sendable, Hashable, CaseIterable {
    /// Single precision; the default.
    case fp32
    /// s8 weights and u8 activations (oneDNN), within cosine 0.99 of fp32.
    case int8
}
