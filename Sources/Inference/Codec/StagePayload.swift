/// What crosses a pipeline stage boundary of the encoder.
public enum StagePayload: Sendable, Equatable {
    /// Token ids of each sequence (preprocessor → first shard).
    case tokenIDs([[Int32]])
    /// Packed hidden states with their lengths (shard → shard, last shard → postprocessor).
    case hiddenStates(HiddenStates)
    /// One pooled vector per sequence, all of `dimension` floats (postprocessor → gateway).
    case embeddings(dimension: Int, vectors: [[Float]])
}
