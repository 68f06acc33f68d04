/// The embedding tables and their LayerNorm.
struct EmbeddingWeights: Sendable {
    var word: FloatBuffer
    var position: FloatBuffer
    /// Row 0 of the token-type table: single-sentence inputs use only type 0.
    var tokenType: FloatBuffer
    var normGamma: FloatBuffer
    var normBeta: FloatBuffer

    init(configuration c: BertConfiguration, provider: some TensorProvider) throws(ModelError) {
        let h = c.hiddenSize
        word = FloatBuffer(
            try ModelWeights.load("embeddings.word_embeddings.weight", [c.vocabularySize, h], from: provider))
        position = FloatBuffer(
            try ModelWeights.load("embeddings.position_embeddings.weight", [c.maxPositions, h], from: provider))
        let types = try ModelWeights.load(
            "embeddings.token_type_embeddings.weight", [c.typeVocabularySize, h], from: provider)
        tokenType = FloatBuffer(Array(types[0..<h]))
        normGamma = FloatBuffer(try ModelWeights.load("embeddings.LayerNorm.weight", [h], from: provider))
        normBeta = FloatBuffer(try ModelWeights.load("embeddings.LayerNorm.bias", [h], from: provider))
    }
}
