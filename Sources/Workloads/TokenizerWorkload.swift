public import Inference
public import Sodium
public import StageRuntime

/// The preprocessor: UTF-8 text in, token ids (the stage codec's `tokenIDs`) out.
public struct TokenizerWorkload: StageWorkload {
    public let tokenizer: WordPieceTokenizer

    public init(tokenizer: WordPieceTokenizer) {
        self.tokenizer = tokenizer
    }

    public func process(_ inputs: [SecureBytes]) -> [StageOutcome] {
        inputs.map { input in
            // The tokenizer works on a `String`: like the model's tensors, the text it holds while
            // tokenizing is the workload's own (see `StageWorkload`).
            guard let text = input.withUnsafeBytes({ String(validating: $0, as: UTF8.self) }) else {
                return .failure("the job's input is not UTF-8 text")
            }
            return .output(SecurePayloads.encode(.tokenIDs([tokenizer.encode(text)])))
        }
    }
}
