import ArgumentParser
import Foundation
import Inference
import Observability

/// A command that runs the model's engine: before it runs, the process says which matrix kernel
/// it uses (a start-up log line, a loud warning when it is slower than the CPU allows) and
/// exports it as `sealpipe_engine_info` on every metrics endpoint it serves.
protocol EngineCommand {
    /// The command's `--log-format`, applied before the start-up line is logged.
    var engineLogFormat: String? { get }
}

extension EngineCommand {
    var engineLogFormat: String? { nil }
}

extension NodeCommand: EngineCommand {
    var engineLogFormat: String? { logging.logFormat }
}

extension BenchModelCommand: EngineCommand {}

extension EmbedCommand: EngineCommand {}

/// The start-up report of `EngineKernel.current`.
enum EngineStartup {
    /// Whether `command` runs the engine, and its `--log-format`.
    static func startUpChoice(for command: any ParsableCommand) -> (runsEngine: Bool, logFormat: String?) {
        guard let engine = command as? any EngineCommand else { return (false, nil) }
        return (true, engine.engineLogFormat)
    }

    static func report(logFormat: String?) {
        if let logFormat { setenv("SEALPIPE_LOG_FORMAT", logFormat, 1) }
        let kernel = EngineKernel.current
        setInfo(precision: .fp32, matrixKernel: "OpenBLAS \(kernel.kernel)")
        let logger = LoggingSetup.logger("sealpipe.engine")
        logger.info(
            "engine kernel",
            metadata: [
                "kernel": "\(kernel.kernel)", "status": "\(kernel.status.rawValue)",
                "recommended": "\(kernel.recommended)",
                "cpu_features": "\(kernel.cpuFeatures)", "openblas": "\(EngineKernel.configuration)",
                "onednn": "\(EngineKernel.oneDNNVersion ?? "unavailable: \(EngineKernel.oneDNNProblem ?? "")")",
            ])
        if let warning = kernel.warning {
            let headline =
                switch kernel.status {
                case .unsupported: "engine kernel needs instructions this CPU lacks"
                case .unknown: "engine kernel not recognised"
                case .best, .pinned, .slower: "engine kernel slower than this CPU allows"
                }
            logger.warning("\(headline): \(warning)")
        }
    }

    /// `sealpipe_engine_info`: the OpenBLAS kernel (`kernel`, judged against the CPU), the
    /// precision the model runs, and the library and kernel of its linear layers.
    private static func setInfo(precision: Precision, matrixKernel: String) {
        let kernel = EngineKernel.current
        InfoMetrics.set(
            "sealpipe_engine_info",
            "The matrix kernel the engine runs (OpenBLAS core name), the best for this CPU, the CPU features, "
                + "the precision of the linear layers and the kernel that runs them.",
            labels: [
                "kernel": kernel.kernel, "recommended": kernel.recommended, "status": kernel.status.rawValue,
                "cpu_features": kernel.cpuFeatures, "precision": precision.rawValue, "matrix_kernel": matrixKernel,
            ])
    }

    /// A `--precision` value, or a usage error naming it and the known ones.
    static func precision(_ text: String) throws -> Precision {
        do {
            return try Precision(parsing: text)
        } catch .unsupported(let reason) {
            throw ValidationError("--precision: unknown \(reason)")
        } catch {
            throw ValidationError("--precision: \(error)")
        }
    }

    /// Once a model is loaded: its precision and matrix kernel in `sealpipe_engine_info` and a
    /// log line, and a warning when it runs another precision than asked (int8 without oneDNN).
    static func reportModel(_ model: MiniLMModel) {
        setInfo(precision: model.precision, matrixKernel: model.matrixKernel)
        let logger = LoggingSetup.logger("sealpipe.engine")
        logger.info(
            "engine precision",
            metadata: ["precision": "\(model.precision.rawValue)", "matrix_kernel": "\(model.matrixKernel)"])
        if let warning = model.precisionWarning { logger.warning("engine precision fallback: \(warning)") }
    }
}
