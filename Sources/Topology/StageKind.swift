/// What a stage does to the bytes that pass through it.
public enum StageKind: String, Sendable, Hashable, CaseIterable {
    /// Text in, token ids out (WordPiece); the first stage of a `minilm` pipeline.
    case tokenizer
    /// Hidden states in, hidden states out, through a contiguous range of encoder layers.
    case encoder
    /// Hidden states in, one normalized embedding per input out; the last `minilm` stage.
    case pooling
    /// Bytes in, the same bytes out; the only kind an `echo` model runs.
    case echo
}
