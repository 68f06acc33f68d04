/// The weights one model instance holds: optionally the embeddings, and a contiguous range of layers.
///
/// Loading goes through any `TensorProvider`, so a shard can be fed from a mapped file or from a
/// decrypted buffer alike, and it reads only the tensors of its own layers.
public struct ModelWeights: Sendable {
    public let configuration: BertConfiguration
    /// The layers held, a sub-range of `0..<configuration.layerCount`.
    public let layerRange: Range<Int>
    /// Whether the embedding tables are held (needed to turn token ids into hidden states).
    public var hasEmbeddings: Bool { embeddings != nil }

    let embeddings: EmbeddingWeights?
    let layers: [LayerWeights]

    /// Loads `layers` (default: all) and, if `embeddings`, the embedding tables, checking every shape.
    public init(
        configuration: BertConfiguration, provider: some TensorProvider,
        layers: Range<Int>? = nil, embeddings: Bool = true
    ) throws(ModelError) {
        let all = 0..<configuration.layerCount
        let range = layers ?? all
        guard range.lowerBound >= 0, range.upperBound <= configuration.layerCount else {
            throw .layersNotLoaded(requested: range, loaded: all)
        }
        self.configuration = configuration
        self.layerRange = range
        self.embeddings = embeddings ? try EmbeddingWeights(configuration: configuration, provider: provider) : nil
        var loaded: [LayerWeights] = []
        for index in range {
            loaded.append(try LayerWeights(index: index, configuration: configuration, provider: provider))
        }
        self.layers = loaded
    }

    static func load(_ name: String, _ shape: [Int], from provider: some TensorProvider) throws(ModelError) -> [Float] {
        let tensor = try provider.floatTensor(named: name)
        guard tensor.shape == shape else { throw .shapeMismatch(tensor: name, expected: shape, actual: tensor.shape) }
        return tensor.values
    }
}
