import ArgumentParser
import Foundation
import Inference

/// `sealpipe embed`: sentence embeddings for JSON lines on standard input or a file.
struct EmbedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed JSON lines {\"text\": \"...\"} with the model, one {\"embedding\": [...]} line per input.",
        discussion: "A line that is not such an object yields {\"error\": \"...\", \"line\": N} and a message on "
            + "standard error; the other lines still come out, and the exit status is 1. Blank lines are skipped."
    )

    @Option(help: "Read JSON lines from this file instead of standard input.")
    var input: String?

    @Option(help: "The model folder.")
    var model: String = "models/all-MiniLM-L6-v2"

    @Option(help: "Sentences per forward pass.")
    var batch: Int = 32

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(help: "Precision of the linear layers: fp32 (default) or int8.")
    var precision: String = Precision.fp32.rawValue

    @Flag(help: "Add the token ids as \"input_ids\".")
    var tokens = false

    func validate() throws {
        guard batch >= 1 else { throw ValidationError("--batch must be at least 1, not \(batch)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, not \(threads)") }
        _ = try EngineStartup.precision(precision)
    }

    func run() async throws {
        let loaded: MiniLMModel
        do {
            loaded = try MiniLMModel(
                directory: URL(fileURLWithPath: model), threads: threads,
                precision: try EngineStartup.precision(precision))
        } catch {
            throw ValidationError("--model \(model): \(error)")
        }
        EngineStartup.reportModel(loaded)
        let lines: [String]
        do {
            lines = try readLines()
        } catch {
            throw ValidationError("--input \(input ?? "-"): \(error.localizedDescription)")
        }
        let embedder = JSONLinesEmbedder(model: loaded, batchSize: batch, includeTokens: tokens)
        // Matrix work blocks for a while: keep it off the cooperative pool.
        let failures = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var output = StandardOutput()
                let failures = embedder.run(
                    lines: lines, output: { output.write($0) },
                    failure: { FileHandle.standardError.write(Data("embed: line \($0.line): \($0.message)\n".utf8)) })
                output.flush()
                continuation.resume(returning: failures)
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    private func readLines() throws -> [String] {
        let data: Data
        if let input, input != "-" {
            data = try Data(contentsOf: URL(fileURLWithPath: input))
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
    }
}

/// Buffers output lines so that large batches are written in few system calls.
private struct StandardOutput {
    private var buffer = Data()

    mutating func write(_ line: String) {
        buffer.append(contentsOf: line.utf8)
        buffer.append(0x0A)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
