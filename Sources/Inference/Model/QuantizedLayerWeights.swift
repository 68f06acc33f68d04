/// One encoder layer's four linear layers in int8 (`Precision.int8`), made once from its fp32
/// weights; biases, LayerNorm and attention stay with the fp32 `LayerWeights`.
struct QuantizedLayerWeights: Sendable {
    var qkv: Int8Linear
    var attentionOutput: Int8Linear
    var intermediate: Int8Linear
    var output: Int8Linear

    /// `range` is `Int8Linear.range(for:)` of this CPU.
    init(
        _ layer: LayerWeights, index: Int, configuration c: BertConfiguration, range: Int8Range, library: OneDNN
    ) throws(ModelError) {
        let h = c.hiddenSize
        let inner = c.intermediateSize
        let prefix = "encoder.layer.\(index)."
        qkv = try Int8Linear(
            layer.qkvWeight.readOnly, n: 3 * h, k: h, name: prefix + "attention.self.{query,key,value}.weight",
            range: range, library: library)
        attentionOutput = try Int8Linear(
            layer.attentionOutputWeight.readOnly, n: h, k: h, name: prefix + "attention.output.dense.weight",
            range: range, library: library)
        intermediate = try Int8Linear(
            layer.intermediateWeight.readOnly, n: inner, k: h, name: prefix + "intermediate.dense.weight",
            range: range, library: library)
        output = try Int8Linear(
            layer.outputWeight.readOnly, n: h, k: inner, name: prefix + "output.dense.weight", range: range,
            library: library)
    }
}
