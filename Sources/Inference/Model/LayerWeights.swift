/// One encoder layer's weights, rearranged once at load for the forward pass.
struct LayerWeights: Sendable {
    /// Query, key and value projections stacked as [3H × H] (PyTorch [out × in] layout), the
    /// query rows pre-scaled by 1/√headSize so attention scores need no separate scaling pass.
    var qkvWeight: FloatBuffer
    var qkvBias: FloatBuffer
    var attentionOutputWeight: FloatBuffer
    var attentionOutputBias: FloatBuffer
    var attentionNormGamma: FloatBuffer
    var attentionNormBeta: FloatBuffer
    var intermediateWeight: FloatBuffer
    var intermediateBias: FloatBuffer
    var outputWeight: FloatBuffer
    var outputBias: FloatBuffer
    var outputNormGamma: FloatBuffer
    var outputNormBeta: FloatBuffer

    init(index: Int, configuration c: BertConfiguration, provider: some TensorProvider) throws(ModelError) {
        let prefix = "encoder.layer.\(index)."
        func load(_ name: String, _ shape: [Int]) throws(ModelError) -> [Float] {
            try ModelWeights.load(prefix + name, shape, from: provider)
        }
        let h = c.hiddenSize
        let scale = 1 / Float(c.headSize).squareRoot()
        let query = try load("attention.self.query.weight", [h, h]).map { $0 * scale }
        let queryBias = try load("attention.self.query.bias", [h]).map { $0 * scale }
        let key = try load("attention.self.key.weight", [h, h])
        let value = try load("attention.self.value.weight", [h, h])
        qkvWeight = FloatBuffer(query + key + value)
        let keyBias = try load("attention.self.key.bias", [h])
        let valueBias = try load("attention.self.value.bias", [h])
        qkvBias = FloatBuffer(queryBias + keyBias + valueBias)
        attentionOutputWeight = FloatBuffer(try load("attention.output.dense.weight", [h, h]))
        attentionOutputBias = FloatBuffer(try load("attention.output.dense.bias", [h]))
        attentionNormGamma = FloatBuffer(try load("attention.output.LayerNorm.weight", [h]))
        attentionNormBeta = FloatBuffer(try load("attention.output.LayerNorm.bias", [h]))
        intermediateWeight = FloatBuffer(try load("intermediate.dense.weight", [c.intermediateSize, h]))
        intermediateBias = FloatBuffer(try load("intermediate.dense.bias", [c.intermediateSize]))
        outputWeight = FloatBuffer(try load("output.dense.weight", [h, c.intermediateSize]))
        outputBias = FloatBuffer(try load("output.dense.bias", [h]))
        outputNormGamma = FloatBuffer(try load("output.LayerNorm.weight", [h]))
        outputNormBeta = FloatBuffer(try load("output.LayerNorm.bias", [h]))
    }
}
