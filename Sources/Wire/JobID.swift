/// A job's 128-bit identifier, chosen at random by the client.
public struct JobID: Sendable, Hashable, CustomStringConvertible {
    public static let byteCount = 16
    public let bytes: [UInt8]

    /// `nil` unless exactly 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A random id from the system generator (job ids need uniqueness, not secrecy). Two
    /// 64-bit draws, not sixteen byte-sized ones: each draw is a system call.
    public static func random() -> JobID {
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount)
        for _ in 0..<(byteCount / 8) {
            withUnsafeBytes(of: generator.next()) { bytes.append(contentsOf: $0) }
        }
        return JobID(bytes: bytes)!
    }

    /// Lower-case hex, for logs and JSON.
    public var description: String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
