import Foundation
import Logging

/// Logs go to standard error (standard output carries announcements and results); the level
/// comes from `SEALPIPE_LOG_LEVEL` (default `info`).
enum LoggingSetup {
    nonisolated(unsafe) private static var done = false

    static func bootstrap() {
        guard !done else { return }
        done = true
        let level = ProcessInfo.processInfo.environment["SEALPIPE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    static func logger(_ label: String) -> Logger {
        bootstrap()
        return Logger(label: label)
    }
}
