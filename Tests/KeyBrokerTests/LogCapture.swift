import Logging
import Synchronization

/// Every line a logger wrote, as the text a line-based handler would print.
final class LogCapture: Sendable {
    private let lines = Mutex([String]())

    var captured: [String] { lines.withLock { $0 } }

    var logger: Logger {
        Logger(label: "sealpipe.kms.test") { [self] _ in Handler(capture: self) }
    }

    func record(_ line: String) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            capture.record("\(event.level) \(event.message) \(fields.joined(separator: " "))")
        }
    }
}
