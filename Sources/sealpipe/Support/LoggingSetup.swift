import ArgumentParser
import Foundation
import Logging
import Observability

/// Logs go to standard error (standard output carries announcements and results), one line per
/// record: JSON by default, or escaped text for a terminal. The level comes from
/// `SEALPIPE_LOG_LEVEL` (default `info`), the format from `--log-format` or `SEALPIPE_LOG_FORMAT`
/// (default `json`); children started by `launch` inherit both through the environment.
enum LoggingSetup {
    nonisolated(unsafe) private static var done = false

    static func bootstrap() {
        guard !done else { return }
        done = true
        let environment = ProcessInfo.processInfo.environment
        let level = environment["SEALPIPE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let format = environment["SEALPIPE_LOG_FORMAT"].flatMap(LogLineHandler.Format.init(rawValue:)) ?? .json
        LoggingSystem.bootstrap { label in
            var handler = LogLineHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
    }

    static func logger(_ label: String) -> Logger {
        bootstrap()
        return Logger(label: label)
    }
}

/// `--log-format json|text` for the commands that run services.
struct LoggingOptions: ParsableArguments {
    @Option(help: "Log line format: json (one JSON object per line) or text. Default: $SEALPIPE_LOG_FORMAT or json.")
    var logFormat: String?

    func validate() throws {
        if let logFormat, LogLineHandler.Format(rawValue: logFormat) == nil {
            throw ValidationError("--log-format \(logFormat): expected json or text")
        }
    }

    /// Makes the choice the process's (and its children's) before the first logger is made.
    func apply() {
        if let logFormat { setenv("SEALPIPE_LOG_FORMAT", logFormat, 1) }
    }
}
