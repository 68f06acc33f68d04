public import Wire

/// Why a job did not produce a result.
public enum ClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The pipeline ended the job with this code and message.
    case pipeline(code: UInt16, message: String)
    /// No answer came before the client's own timeout.
    case timedOut
    /// The result was not signed by the pipeline's last stage.
    case badResultSignature
    /// The result could not be opened with the job's reply key.
    case couldNotOpen
    /// The answer was malformed.
    case malformedAnswer(String)

    /// The wire code, when the pipeline sent one.
    public var code: ErrorCode? {
        if case .pipeline(let code, _) = self { return ErrorCode(rawValue: code) }
        return nil
    }

    public var description: String {
        switch self {
        case .pipeline(let code, let message):
            "\(ErrorCode(rawValue: code)?.name ?? "error \(code)"): \(message)"
        case .timedOut: "no answer before the client's timeout"
        case .badResultSignature: "the result is not signed by the pipeline's last stage; refused"
        case .couldNotOpen: "could not open the result with the job's reply key"
        case .malformedAnswer(let reason): "malformed answer: \(reason)"
        }
    }
}
