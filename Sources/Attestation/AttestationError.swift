/// Why evidence could not be collected, parsed or a policy resolved. Each case names the problem.
public enum AttestationError: Error, Equatable, CustomStringConvertible {
    case invalidReportData(expected: Int, actual: Int)
    case malformed(what: String, reason: String)
    case invalidMeasurement(String)
    case referenceBuildUnavailable
    case io(path: String, reason: String)
    case refused(String)

    public var description: String {
        switch self {
        case .invalidReportData(let expected, let actual):
            "report data must be \(expected) bytes, got \(actual)"
        case .malformed(let what, let reason):
            "\(what): \(reason)"
        case .invalidMeasurement(let text):
            "measurement \"\(text)\" is neither hex nor reference-build"
        case .referenceBuildUnavailable:
            "policy lists reference-build but no reference measurement was supplied"
        case .io(let path, let reason):
            "\(path): \(reason)"
        case .refused(let reason):
            reason
        }
    }
}
