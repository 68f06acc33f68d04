/// Stable numeric error codes carried on the wire; clients switch on these, people read the text.
public enum ErrorCode: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case malformed = 1
    case busy = 2
    case deadlineExceeded = 3
    case unknownEpoch = 4
    case tooLarge = 5
    case unsupportedVersion = 6
    case stageFailed = 7
    case duplicateJob = 8
    case shuttingDown = 9
    case noReplica = 10
    case couldNotOpen = 11
    case badSender = 12
    case replayed = 13

    /// A stable lower-case name used in metrics labels and JSON.
    public var name: String {
        switch self {
        case .malformed: "malformed"
        case .busy: "busy"
        case .deadlineExceeded: "deadline_exceeded"
        case .unknownEpoch: "unknown_epoch"
        case .tooLarge: "too_large"
        case .unsupportedVersion: "unsupported_version"
        case .stageFailed: "stage_failed"
        case .duplicateJob: "duplicate_job"
        case .shuttingDown: "shutting_down"
        case .noReplica: "no_replica"
        case .couldNotOpen: "could_not_open"
        case .badSender: "bad_sender"
        case .replayed: "replayed"
        }
    }

    /// What a person should read.
    public var defaultMessage: String {
        switch self {
        case .malformed: "the message is malformed"
        case .busy: "the pipeline is busy; retry later"
        case .deadlineExceeded: "the job's deadline passed before it finished"
        case .unknownEpoch: "the job was sealed under a key epoch the pipeline does not hold; fetch a fresh manifest"
        case .tooLarge: "the payload exceeds the pipeline's limit"
        case .unsupportedVersion: "unsupported protocol version"
        case .stageFailed: "a stage could not process the job"
        case .duplicateJob: "a job with this id is already in flight"
        case .shuttingDown: "the pipeline is shutting down"
        case .noReplica: "no live replica can take the job"
        case .couldNotOpen: "a stage could not open the job"
        case .badSender: "the message did not come from the stage the topology routes from"
        case .replayed: "the message was already processed"
        }
    }

    public var description: String { "\(rawValue) \(name)" }
}
