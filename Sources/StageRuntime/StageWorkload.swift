public import Sodium

/// What a stage computes: bytes in, bytes out, a batch at a time.
///
/// The runtime opens, checks and batches hops; a workload sees only decoded inputs and is
/// free of keys, sockets and BERT specifics, so other models plug in here. Inputs and outputs
/// are decrypted data, so they stay in secret memory (`SecureBytes`) from the opened hop to the
/// next seal; what a workload computes from them in between (a model's own tensors) is its own.
public protocol StageWorkload: Sendable {
    /// Processes one batch; returns one outcome per input, in order.
    func process(_ inputs: [SecureBytes]) -> [StageOutcome]
}

/// The result of one input of a batch.
public enum StageOutcome: Sendable, Equatable {
    /// The job's output, in secret memory: the stage encodes it into the secret memory it seals from.
    case output(SecureBytes)
    /// The input was unusable; the job ends with `stageFailed`. The detail may describe the input
    /// (a token id, a position), so it never travels in clear and is never logged: the stage
    /// seals it to the job's reply key, for the client alone.
    case failure(String)

    /// Outputs compare by content, in constant time.
    public static func == (lhs: StageOutcome, rhs: StageOutcome) -> Bool {
        switch (lhs, rhs) {
        case (.output(let a), .output(let b)): a.constantTimeEquals(b)
        case (.failure(let a), .failure(let b)): a == b
        default: false
        }
    }
}

/// Passes every input through unchanged: with real sealing and routing, it measures the
/// transport and crypto cost of a hop apart from the model.
public struct EchoWorkload: StageWorkload {
    public init() {}

    public func process(_ inputs: [SecureBytes]) -> [StageOutcome] {
        inputs.map { .output($0) }
    }
}
