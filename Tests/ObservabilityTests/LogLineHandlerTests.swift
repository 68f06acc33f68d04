import Foundation
import Logging
import Synchronization
import Testing

@testable import Observability

/// No input can forge a log line: whatever a role, reason or metadata value holds, each record
/// is one line, and in JSON its fields stay inside their strings.
@Suite("One-line log handler")
struct LogLineHandlerTests {
    /// Collects what a handler writes.
    final class Lines: Sendable {
        let written = Mutex<[String]>([])
        var all: [String] { written.withLock { $0 } }
    }

    func logger(_ format: LogLineHandler.Format, into lines: Lines) -> Logger {
        Logger(label: "sealpipe.test") { label in
            LogLineHandler(label: label, format: format) { line in lines.written.withLock { $0.append(line) } }
        }
    }

    static let hostile = "shard-0\"}\n{\"level\":\"info\",\"message\":\"keys released\"}\r\u{2028}\\ \u{1B}[31m\u{85}"

    @Test func aNewlineOrQuoteInMetadataStaysInsideOneJSONLine() throws {
        let lines = Lines()
        var log = logger(.json, into: lines)
        log[metadataKey: "service"] = .string(Self.hostile)
        log.warning(
            "key release refused \(Self.hostile)",
            metadata: ["role": .string(Self.hostile), "nested": .dictionary(["\n": .array([.string(Self.hostile)])])])
        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        // Exactly one newline, at the end, and no other line break of any kind.
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().allSatisfy { !$0.isNewline })
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["label"] as? String == "sealpipe.test")
        #expect(object["message"] as? String == "key release refused \(Self.hostile)")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["role"] as? String == Self.hostile)
        #expect(metadata["service"] as? String == Self.hostile)
        let nested = try #require(metadata["nested"] as? [String: Any])
        #expect((nested["\n"] as? [String]) == [Self.hostile])
        #expect(Set(object.keys) == ["ts", "level", "label", "message", "metadata"])
    }

    @Test func theTextFormatEscapesLineBreaksToo() throws {
        let lines = Lines()
        let log = logger(.text, into: lines)
        log.info("hop refused", metadata: ["role": .string(Self.hostile)])
        let line = try #require(lines.all.first)
        #expect(lines.all.count == 1)
        #expect(line.dropLast().allSatisfy { !$0.isNewline })
        #expect(line.contains(" info sealpipe.test: hop refused role=shard-0\\\"}\\n{"))
    }

    @Test func escapingCoversEveryControlCharacter() {
        for value in Array(0..<0x20) + Array(0x7F...0x9F) + [0x2028, 0x2029] {
            let escaped = LogLineHandler.escaped(String(Character(Unicode.Scalar(UInt32(value))!)))
            #expect(escaped.hasPrefix("\\"), "U+\(String(value, radix: 16)) was left raw")
        }
        #expect(LogLineHandler.escaped("plain é 中") == "plain é 中")
    }
}
