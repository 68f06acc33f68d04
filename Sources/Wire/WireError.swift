/// Why bytes from the wire were refused. Each case names what was wrong.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(what: String, needed: Int, available: Int)
    case unsupportedVersion(what: String, version: UInt8)
    case unknownType(UInt8)
    case invalidField(what: String, reason: String)
    case trailingBytes(what: String, count: Int)
    case wrongFrameCount(what: String, expected: String, actual: Int)

    public var description: String {
        switch self {
        case .truncated(let what, let needed, let available):
            "\(what): truncated (needed \(needed) bytes, \(available) left)"
        case .unsupportedVersion(let what, let version): "\(what): unsupported version \(version)"
        case .unknownType(let type): "unknown message type \(type)"
        case .invalidField(let what, let reason): "\(what): \(reason)"
        case .trailingBytes(let what, let count): "\(what): \(count) unexpected trailing bytes"
        case .wrongFrameCount(let what, let expected, let actual): "\(what): expected \(expected) frames, got \(actual)"
        }
    }
}
