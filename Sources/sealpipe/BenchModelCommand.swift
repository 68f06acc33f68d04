import ArgumentParser
import Foundation
import Inference

/// `sealpipe bench model`: throughput and latency of the Swift encoder.
struct BenchModelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Sentences per second at several batch sizes, and single-sentence latency."
    )

    @Option(help: "JSON lines {\"text\": ...} of short sentences.")
    var short: String

    @Option(help: "JSON lines {\"text\": ...} of medium sentences.")
    var medium: String

    @Option(help: "The model folder.")
    var model: String = "models/all-MiniLM-L6-v2"

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(
        help: """
            Precisions of the linear layers, comma-separated (fp32, int8); several are measured side by side, \
            interleaved.
            """)
    var precision: String = "fp32"

    @Option(help: "Batch sizes, comma-separated.")
    var batches: String = "1,8,32"

    @Option(help: "Sentences per timed throughput run.")
    var sentences: Int = 256

    @Option(help: "Timed runs per set and batch size (best and median are reported).")
    var repeats: Int = 5

    @Option(help: "Single-sentence calls per set for latency.")
    var samples: Int = 100

    @Option(help: "Also write the report as JSON to this file.")
    var json: String?

    func run() async throws {
        let sizes = batches.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("--batches must list positive integers, not \(batches)")
        }
        var precisions: [Precision] = []
        for name in precision.split(separator: ",") {
            precisions.append(try EngineStartup.precision(name.trimmingCharacters(in: .whitespaces)))
        }
        guard !precisions.isEmpty, Set(precisions).count == precisions.count else {
            throw ValidationError("--precision must list distinct precisions (fp32, int8), not \(precision)")
        }
        var loaded: [MiniLMModel] = []
        for precision in precisions {
            do {
                loaded.append(
                    try MiniLMModel(directory: URL(fileURLWithPath: model), threads: threads, precision: precision))
            } catch {
                throw ValidationError("--model \(model) (\(precision.rawValue)): \(error)")
            }
        }
        var sets: [(name: String, texts: [String])] = []
        for (name, path) in [("short", short), ("medium", medium)] {
            do {
                sets.append((name, try ModelBenchmark.readSentences(URL(fileURLWithPath: path))))
            } catch {
                throw ValidationError("--\(name) \(path): \(error)")
            }
        }
        let chosen = sets
        let benchmark = ModelBenchmark(
            models: loaded, sentencesPerRun: sentences, repeats: repeats, latencySamples: samples)
        let report = await withCheckedContinuation { continuation in
            // Timed matrix work runs on its own thread, away from the cooperative pool.
            Thread.detachNewThread {
                continuation.resume(returning: benchmark.run(sets: chosen, batchSizes: sizes))
            }
        }
        print(report.table())
        if let json {
            try report.jsonData().write(to: URL(fileURLWithPath: json))
        }
    }
}
