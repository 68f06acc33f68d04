public import Inference
import Wire
public import StageRuntime

/// The postprocessor: hidden states in, the mean-pooled, normalised embedding out (as
/// little-endian float32, the result body a client reads). It holds no weights.
public struct PoolingWorkload: StageWorkload {
    public let model: MiniLMModel

    /// `model` needs only its configuration: load it with no layers and no embeddings.
    public init(model: MiniLMModel) {
        self.model = model
    }

    public func process(_ inputs: [[UInt8]]) -> [StageOutcome] {
        inputs.map { input in
            let payload: StagePayload
            do { payload = try TensorCodec.decode(input) } catch {
                return .failure("the stage payload is malformed: \(error)")
            }
            guard case .hiddenStates(let states) = payload, states.hiddenSize == model.configuration.hiddenSize else {
                return .failure("the postprocessor takes hidden states of width \(model.configuration.hiddenSize)")
            }
            return .output(JobResult.body(floats: model.pool(states).flatMap { $0 }))
        }
    }
}
