public import Inference
public import StageRuntime

/// The preprocessor: UTF-8 text in, token ids (the stage codec's `tokenIDs`) out.
public struct TokenizerWorkload: StageWorkload {
    public let tokenizer: WordPieceTokenizer

    public init(tokenizer: WordPieceTokenizer) {
        self.tokenizer = tokenizer
    }

    public func process(_ inputs: [[UInt8]]) -> [StageOutcome] {
        inputs.map { input in
            guard let text = String(validating: input, as: UTF8.self) else {
                return .failure("the job's input is not UTF-8 text")
            }
            return .output(TensorCodec.encode(.tokenIDs([tokenizer.encode(text)])))
        }
    }
}
