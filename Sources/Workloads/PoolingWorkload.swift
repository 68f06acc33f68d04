public import Inference
public import Sodium
public import StageRuntime

/// The postprocessor: hidden states in, the mean-pooled, normalised embedding out (as
/// `EmbeddingCodec`, the result body a client reads). It holds no weights.
public struct PoolingWorkload: StageWorkload {
    public let model: MiniLMModel

    /// `model` needs only its configuration: load it with no layers and no embeddings.
    public init(model: MiniLMModel) {
        self.model = model
    }

    public func process(_ inputs: [SecureBytes]) -> [StageOutcome] {
        inputs.map { input in
            let payload: StagePayload
            do { payload = try SecurePayloads.decode(input) } catch {
                return .failure("the stage payload is malformed: \(error)")
            }
            guard case .hiddenStates(let states) = payload, states.hiddenSize == model.configuration.hiddenSize else {
                return .failure("the postprocessor takes hidden states of width \(model.configuration.hiddenSize)")
            }
            return .output(SecurePayloads.encode(embedding: model.pool(states).flatMap { $0 }))
        }
    }
}
