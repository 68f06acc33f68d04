/// The files of a model directory that the tokenizer and the model configuration read in clear.
///
/// Everything here shapes results (the vocabulary decides token ids, the configuration the
/// architecture and pooling), so a stage's measured configuration covers their contents: see
/// `Workloads.ModelFileDigests`. The weights are not listed: workers read them only from their
/// sealed shard, which the broker sealed and only the role's released key opens.
public enum ModelDirectory {
    /// Paths relative to the model directory, in the order the loaders read them. Optional ones
    /// (`tokenizer.json`, `tokenizer_config.json`, …) count when present: adding one changes what
    /// the loaders do, so it changes the digest set too.
    public static let filesReadInClear = [
        "config.json", "sentence_bert_config.json", "modules.json", "1_Pooling/config.json", "vocab.txt",
        "tokenizer_config.json", "tokenizer.json", "special_tokens_map.json",
    ]
}
