import Foundation
public import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler that writes each record as exactly one line, so nothing a peer can put in
/// a role, a reason or any metadata can start a line of its own or pass for another field.
///
/// `json` (the default) writes one JSON object per line: `ts`, `level`, `label`, `message`, then
/// `metadata`, every string escaped (quotes, backslashes, and every control character including
/// newlines). `text` is for people at a terminal: `ts level label: message key=value …`, with the
/// same characters escaped, so it cannot be forged either.
public struct LogLineHandler: LogHandler {
    /// How each record is written.
    public enum Format: String, Sendable, CaseIterable {
        case json
        case text
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public let label: String
    public let format: Format
    private let sink: @Sendable (String) -> Void

    /// A handler writing to standard error.
    public init(label: String, format: Format) {
        self.init(label: label, format: format, sink: Self.writeToStandardError)
    }

    /// A handler passing each finished line (with its newline) to `sink`.
    public init(label: String, format: Format, sink: @escaping @Sendable (String) -> Void) {
        self.label = label
        self.format = format
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        if let error = event.error { merged["error"] = "\(error)" }
        sink(line(level: event.level, message: event.message.description, metadata: merged, date: Date()))
    }

    /// The one line for a record (its newline included).
    func line(level: Logger.Level, message: String, metadata: Logger.Metadata, date: Date) -> String {
        let timestamp = date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let keys = metadata.keys.sorted()
        switch format {
        case .json:
            var out = "{\"ts\":\(Self.quoted(timestamp)),\"level\":\(Self.quoted(level.rawValue))"
            out += ",\"label\":\(Self.quoted(label)),\"message\":\(Self.quoted(message))"
            if !keys.isEmpty {
                out += ",\"metadata\":{"
                out += keys.map { "\(Self.quoted($0)):\(Self.json(metadata[$0]!))" }.joined(separator: ",")
                out += "}"
            }
            return out + "}\n"
        case .text:
            var out = "\(timestamp) \(level.rawValue) \(Self.escaped(label)): \(Self.escaped(message))"
            for key in keys { out += " \(Self.escaped(key))=\(Self.text(metadata[key]!))" }
            return out + "\n"
        }
    }

    private static func json(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): quoted(string)
        case .stringConvertible(let convertible): quoted(convertible.description)
        case .array(let values): "[" + values.map(json).joined(separator: ",") + "]"
        case .dictionary(let members):
            "{" + members.keys.sorted().map { "\(quoted($0)):\(json(members[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    private static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): escaped(string)
        case .stringConvertible(let convertible): escaped(convertible.description)
        case .array(let values): "[" + values.map(text).joined(separator: ", ") + "]"
        case .dictionary(let members):
            "[" + members.keys.sorted().map { "\(escaped($0)): \(text(members[$0]!))" }.joined(separator: ", ") + "]"
        }
    }

    static func quoted(_ string: String) -> String { "\"" + escaped(string) + "\"" }

    /// JSON string escaping: quote, backslash and every control character (C0, DEL, C1, and the
    /// line and paragraph separators) become escapes, so the result is one line of plain text.
    static func escaped(_ string: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(string.unicodeScalars.count)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 {
                    let hex = String(value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// Lines from every thread go out whole: one `write` per line, one writer at a time.
    private static let standardErrorLock = Mutex(())

    private static let writeToStandardError: @Sendable (String) -> Void = { line in
        var bytes = Array(line.utf8)
        standardErrorLock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
        bytes.removeAll()
    }
}
