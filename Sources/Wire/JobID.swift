/// A job's 128-bit identifier, chosen at random by the client.
public struct JobID: Sendable, Hashable, CustomStringConvertible {
    public static let byteCount = 16
    public let bytes: [UInt8]

    /// `nil` unless exactly 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A random id from the system generator (job ids need uniqueness, not secrecy).
    public static func random() -> JobID {
        var generator = SystemRandomNumberGenerator()
        return JobID(bytes: (0..<byteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) })!
    }

    /// Lower-case hex, for logs and JSON.
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
