/// One encoder layer's four linear layers with their weights packed once for oneDNN: in int8
/// (`Precision.int8`, quantized from the fp32 weights) or in fp32 (`FP32Linear`). Biases,
/// LayerNorm and attention stay with the fp32 `LayerWeights`.
struct PackedLayerWeights: Sendable {
    var qkv: any PackedLinear
    var attentionOutput: any PackedLinear
    var intermediate: any PackedLinear
    var output: any PackedLinear

    /// int8: `range` is `Int8Linear.range(for:)` of this CPU.
    init(
        int8 layer: LayerWeights, index: Int, configuration c: BertConfiguration, range: Int8Range, library: OneDNN
    ) throws(ModelError) {
        try self.init(layer, index: index, configuration: c) { weight, n, k, name throws(ModelError) in
            try Int8Linear(weight, n: n, k: k, name: name, range: range, library: library)
        }
    }

    /// fp32, packed as it is.
    init(fp32 layer: LayerWeights, index: Int, configuration c: BertConfiguration, library: OneDNN) throws(ModelError) {
        try self.init(layer, index: index, configuration: c) { weight, n, k, name throws(ModelError) in
            try FP32Linear(weight, n: n, k: k, name: name, library: library)
        }
    }

    private init(
        _ layer: LayerWeights, index: Int, configuration c: BertConfiguration,
        make: (UnsafePointer<Float>, Int, Int, String) throws(ModelError) -> any PackedLinear
    ) throws(ModelError) {
        let h = c.hiddenSize
        let inner = c.intermediateSize
        let prefix = "encoder.layer.\(index)."
        qkv = try make(layer.qkvWeight.readOnly, 3 * h, h, prefix + "attention.self.{query,key,value}.weight")
        attentionOutput = try make(layer.attentionOutputWeight.readOnly, h, h, prefix + "attention.output.dense.weight")
        intermediate = try make(layer.intermediateWeight.readOnly, inner, h, prefix + "intermediate.dense.weight")
        output = try make(layer.outputWeight.readOnly, h, inner, prefix + "output.dense.weight")
    }
}
