public import Foundation

/// Measures the encoder end to end (tokenising included, as sentence-transformers' `encode` does):
/// sentences per second at given batch sizes, and single-sentence latency percentiles.
///
/// The method mirrors `Scripts/bench/pytorch_bench.py` so the two compare directly: a workload of
/// `sentencesPerRun` sentences cycled from the set, a warm-up, `repeats` timed runs reported as
/// best and median, and latency over `latencySamples` single-sentence calls after 10 warm-ups.
///
/// Several models (e.g. fp32 and int8) are measured interleaved — each timed run and each latency
/// sample goes to every model in turn — so that load from other processes hits them alike and
/// their ratio holds even on a busy machine.
public struct ModelBenchmark: Sendable {
    public let models: [MiniLMModel]
    public let sentencesPerRun: Int
    public let repeats: Int
    public let latencySamples: Int

    public init(model: MiniLMModel, sentencesPerRun: Int = 256, repeats: Int = 5, latencySamples: Int = 100) {
        self.init(models: [model], sentencesPerRun: sentencesPerRun, repeats: repeats, latencySamples: latencySamples)
    }

    /// Measures `models` side by side (at least one).
    public init(models: [MiniLMModel], sentencesPerRun: Int = 256, repeats: Int = 5, latencySamples: Int = 100) {
        precondition(!models.isEmpty, "ModelBenchmark: no model")
        self.models = models
        self.sentencesPerRun = max(1, sentencesPerRun)
        self.repeats = max(1, repeats)
        self.latencySamples = max(1, latencySamples)
    }

    /// One throughput measurement.
    public struct Throughput: Codable, Sendable {
        /// The model's precision (`fp32`, `int8`) and the kernel of its linear layers.
        public var precision: String
        public var matrixKernel: String
        public var set: String
        public var batchSize: Int
        public var sentencesPerRun: Int
        /// Best of the timed runs.
        public var sentencesPerSecond: Double
        public var medianSentencesPerSecond: Double
        /// Sentences per second of process CPU time (all threads), best of the timed runs: the
        /// figure that holds when other processes share the cores and wall-clock rates do not.
        public var sentencesPerCPUSecond: Double
        public var meanTokens: Double
    }

    /// Latency of embedding one sentence at a time.
    public struct Latency: Codable, Sendable {
        public var precision: String
        public var matrixKernel: String
        public var set: String
        public var samples: Int
        public var p50Milliseconds: Double
        public var p90Milliseconds: Double
    }

    /// Everything one run measured, with what it ran on.
    public struct Report: Codable, Sendable {
        public var threads: Int
        public var blasCore: String
        /// How the kernel compares with the best for this CPU (`KernelReport.Status`).
        public var kernelStatus: String
        /// The `OPENBLAS_CORETYPE` value of the best kernel tier this CPU supports.
        public var recommendedKernel: String
        /// The CPU features the engine detected (CPUID and XCR0).
        public var cpuFeatures: String
        /// Set when the kernel is slower than the CPU allows, or unknown, with the fix.
        public var kernelWarning: String?
        /// Models that run another precision than asked (int8 without oneDNN), with the reason.
        public var precisionWarnings: [String]?
        public var throughput: [Throughput]
        public var latency: [Latency]

        /// A fixed-width table for people.
        public func table() -> String {
            var lines = ["Swift encoder, \(threads) thread(s), OpenBLAS core \(blasCore)"]
            lines.append("engine: \(EngineKernel.current.summary)")
            if let kernelWarning { lines.append("WARNING: \(kernelWarning)") }
            for kernel in Set(throughput.map(\.matrixKernel)).sorted() { lines.append("linear layers: \(kernel)") }
            for warning in precisionWarnings ?? [] { lines.append("WARNING: \(warning)") }
            lines.append("precision set      batch  sentences/s (best)  (median)  per CPU-second  mean tokens")
            for row in throughput {
                lines.append(
                    row.precision.padding(toLength: 10, withPad: " ", startingAt: 0)
                        + row.set.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                        + String(
                            format: "%5d  %18.1f  %8.1f  %14.1f  %11.1f", row.batchSize, row.sentencesPerSecond,
                            row.medianSentencesPerSecond, row.sentencesPerCPUSecond, row.meanTokens))
            }
            lines.append("precision set      latency p50 ms  p90 ms")
            for row in latency {
                lines.append(
                    row.precision.padding(toLength: 10, withPad: " ", startingAt: 0)
                        + row.set.padding(toLength: 8, withPad: " ", startingAt: 0) + " "
                        + String(format: "%14.2f  %6.2f", row.p50Milliseconds, row.p90Milliseconds))
            }
            return lines.joined(separator: "\n")
        }

        public func jsonData() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            return try encoder.encode(self)
        }
    }

    /// Reads a sentence set: JSON lines with a string field `text`, blank lines skipped.
    public static func readSentences(_ url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var sentences: [String] = []
        for (index, line) in text.split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
            switch JSONLinesEmbedder.parse(String(line), number: index + 1) {
            case .success(let sentence): sentences.append(sentence)
            case .failure(let error): throw error
            }
        }
        guard !sentences.isEmpty else { throw JSONLinesEmbedder.LineError(line: 0, message: "no sentences") }
        return sentences
    }

    /// Runs every measurement: throughput per set and batch size, then latency per set.
    public func run(sets: [(name: String, texts: [String])], batchSizes: [Int]) -> Report {
        var throughput: [Throughput] = []
        var latency: [Latency] = []
        for set in sets {
            for batch in batchSizes {
                throughput += measureThroughput(set: set.name, texts: set.texts, batchSize: batch)
            }
        }
        for set in sets {
            latency += measureLatency(set: set.name, texts: set.texts)
        }
        let kernel = EngineKernel.current
        let warnings = models.compactMap(\.precisionWarning)
        return Report(
            threads: models[0].threadCount, blasCore: MiniLMModel.blasCoreName, kernelStatus: kernel.status.rawValue,
            recommendedKernel: kernel.recommended, cpuFeatures: kernel.cpuFeatures, kernelWarning: kernel.warning,
            precisionWarnings: warnings.isEmpty ? nil : warnings, throughput: throughput, latency: latency)
    }

    /// Embeds a workload of `sentencesPerRun` sentences in batches of `batchSize`, `repeats` times
    /// per model, the models taking turns; one row per model, in order.
    public func measureThroughput(set: String, texts: [String], batchSize: Int) -> [Throughput] {
        let workload = (0..<sentencesPerRun).map { texts[$0 % texts.count] }
        let batches = stride(from: 0, to: workload.count, by: batchSize).map {
            Array(workload[$0..<min($0 + batchSize, workload.count)])
        }
        // Warm-up: pages in the weights, sizes the scratch buffers, compiles oneDNN's kernels.
        for model in models { _ = try? model.embed(texts: Array(workload.prefix(max(2 * batchSize, 16)))) }
        let clock = ContinuousClock()
        var rates = [[Double]](repeating: [], count: models.count)
        var cpuRates = [[Double]](repeating: [], count: models.count)
        for _ in 0..<repeats {
            for (index, model) in models.enumerated() {
                let start = clock.now
                let cpuStart = Self.processCPUSeconds()
                for batch in batches { _ = try? model.embed(texts: batch) }
                rates[index].append(Double(workload.count) / Self.seconds(clock.now - start))
                cpuRates[index].append(Double(workload.count) / max(Self.processCPUSeconds() - cpuStart, 1e-9))
            }
        }
        let tokens = texts.reduce(0) { $0 + models[0].tokenizer.encode($1).count }
        return models.enumerated().map { index, model in
            let sorted = rates[index].sorted()
            return Throughput(
                precision: model.precision.rawValue, matrixKernel: model.matrixKernel, set: set, batchSize: batchSize,
                sentencesPerRun: workload.count, sentencesPerSecond: sorted.last!,
                medianSentencesPerSecond: Self.percentile(sorted, 0.5), sentencesPerCPUSecond: cpuRates[index].max()!,
                meanTokens: Double(tokens) / Double(texts.count))
        }
    }

    /// Embeds `latencySamples` sentences one at a time, each on every model in turn, and reports
    /// percentiles per model.
    public func measureLatency(set: String, texts: [String]) -> [Latency] {
        let clock = ContinuousClock()
        for model in models {
            for text in texts.prefix(10) { _ = try? model.embed(texts: [text]) }
        }
        var durations = [[Double]](repeating: [], count: models.count)
        for index in 0..<latencySamples {
            let text = texts[index % texts.count]
            for (modelIndex, model) in models.enumerated() {
                let start = clock.now
                _ = try? model.embed(texts: [text])
                durations[modelIndex].append(Self.seconds(clock.now - start) * 1000)
            }
        }
        return models.enumerated().map { index, model in
            let sorted = durations[index].sorted()
            return Latency(
                precision: model.precision.rawValue, matrixKernel: model.matrixKernel, set: set, samples: sorted.count,
                p50Milliseconds: Self.percentile(sorted, 0.5), p90Milliseconds: Self.percentile(sorted, 0.9))
        }
    }

    /// Percentile of sorted values, interpolating linearly between closest ranks (numpy's default,
    /// as the PyTorch baseline script computes it).
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        let position = Double(sorted.count - 1) * fraction
        let low = Int(position)
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    /// CPU time of the whole process so far (every thread), in seconds.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    static func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
