/// What a stage computes: bytes in, bytes out, a batch at a time.
///
/// The runtime opens, checks and batches hops; a workload sees only decoded inputs and is
/// free of keys, sockets and BERT specifics, so other models plug in here.
public protocol StageWorkload: Sendable {
    /// Processes one batch; returns one outcome per input, in order.
    func process(_ inputs: [[UInt8]]) -> [StageOutcome]
}

/// The result of one input of a batch.
public enum StageOutcome: Sendable, Equatable {
    case output([UInt8])
    /// The input was unusable; the job ends with `stageFailed`. The detail may describe the input
    /// (a token id, a position), so it never travels in clear and is never logged: the stage
    /// seals it to the job's reply key, for the client alone.
    case failure(String)
}

/// Passes every input through unchanged: with real sealing and routing, it measures the
/// transport and crypto cost of a hop apart from the model.
public struct EchoWorkload: StageWorkload {
    public init() {}

    public func process(_ inputs: [[UInt8]]) -> [StageOutcome] {
        inputs.map { .output($0) }
    }
}
