public import Foundation

/// The shape of a BERT encoder, read from a sentence-transformers model folder.
public struct BertConfiguration: Sendable, Equatable {
    public var vocabularySize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var maxPositions: Int
    public var typeVocabularySize: Int
    public var layerNormEpsilon: Float
    /// Longest token sequence the sentence model accepts, including `[CLS]` and `[SEP]`.
    public var maxSequenceLength: Int
    /// Whether the pooled vector is L2-normalised (a `Normalize` module follows pooling).
    public var normalizes: Bool

    /// Width of one attention head.
    public var headSize: Int { hiddenSize / headCount }

    public init(
        vocabularySize: Int, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
        maxPositions: Int, typeVocabularySize: Int, layerNormEpsilon: Float, maxSequenceLength: Int, normalizes: Bool
    ) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.maxPositions = maxPositions
        self.typeVocabularySize = typeVocabularySize
        self.layerNormEpsilon = layerNormEpsilon
        self.maxSequenceLength = maxSequenceLength
        self.normalizes = normalizes
    }

    /// Reads `config.json`, `sentence_bert_config.json`, `modules.json` and `1_Pooling/config.json`,
    /// refusing settings this encoder does not implement (other activations, other pooling).
    public init(directory: URL) throws(ModelError) {
        let config = try Self.jsonObject(directory.appendingPathComponent("config.json"))
        func integer(_ key: String) throws(ModelError) -> Int {
            guard let value = config[key] as? Int, value > 0 else {
                throw .badFile(path: "config.json", reason: "\(key) is missing or not a positive integer")
            }
            return value
        }
        vocabularySize = try integer("vocab_size")
        hiddenSize = try integer("hidden_size")
        layerCount = try integer("num_hidden_layers")
        headCount = try integer("num_attention_heads")
        intermediateSize = try integer("intermediate_size")
        maxPositions = try integer("max_position_embeddings")
        typeVocabularySize = try integer("type_vocab_size")
        layerNormEpsilon = Float((config["layer_norm_eps"] as? Double) ?? 1e-12)
        guard hiddenSize % headCount == 0 else {
            throw .unsupported("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(headCount)")
        }
        if let activation = config["hidden_act"] as? String, activation != "gelu" {
            throw .unsupported("hidden_act \(activation); only gelu (erf) is implemented")
        }
        if let embedding = config["position_embedding_type"] as? String, embedding != "absolute" {
            throw .unsupported("position_embedding_type \(embedding)")
        }

        let sentenceConfig = try Self.jsonObject(directory.appendingPathComponent("sentence_bert_config.json"))
        guard let maxLength = sentenceConfig["max_seq_length"] as? Int, maxLength >= 2 else {
            throw .badFile(path: "sentence_bert_config.json", reason: "max_seq_length is missing or below 2")
        }
        maxSequenceLength = min(maxLength, maxPositions)

        let poolingURL = directory.appendingPathComponent("1_Pooling/config.json")
        if FileManager.default.fileExists(atPath: poolingURL.path) {
            let pooling = try Self.jsonObject(poolingURL)
            guard pooling["pooling_mode_mean_tokens"] as? Bool == true else {
                throw .unsupported("pooling other than mean over tokens")
            }
            for mode in ["pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"]
            where pooling[mode] as? Bool == true {
                throw .unsupported("pooling mode \(mode)")
            }
        }
        let modulesURL = directory.appendingPathComponent("modules.json")
        if let data = try? Data(contentsOf: modulesURL),
            let modules = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]]
        {
            normalizes = modules.contains { ($0["type"] as? String)?.hasSuffix(".Normalize") == true }
        } else {
            normalizes = true
        }
    }

    static func jsonObject(_ url: URL) throws(ModelError) -> [String: Any] {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw .badFile(path: url.lastPathComponent, reason: "cannot be read")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .badFile(path: url.lastPathComponent, reason: "is not a JSON object")
        }
        return object
    }
}
