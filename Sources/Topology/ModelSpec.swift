/// The model a topology runs: which workload and where its files are.
public struct ModelSpec: Sendable, Hashable {
    /// The workloads the stages know.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// all-MiniLM-L6-v2: tokenizer, encoder shards, mean pooling.
        case minilm
        /// Bytes pass through unchanged: measures the pipeline's own cost per hop.
        case echo
    }

    public let kind: Kind
    /// The model's files (as written: relative paths are relative to the directory in which
    /// `sealpipe launch` runs); `nil` for `echo`.
    public let directory: String?
    /// The number of encoder layers; the encoder stages' ranges cover `0..<layers`. Zero for `echo`.
    public let layers: Int

    public init(kind: Kind, directory: String?, layers: Int) {
        self.kind = kind
        self.directory = directory
        self.layers = layers
    }
}
