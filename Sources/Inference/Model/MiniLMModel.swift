public import Foundation
import Synchronization

/// A BERT sentence encoder (all-MiniLM-L6-v2 and its kin) whose stages can run apart:
/// `embeddings(tokens:)` → `runLayers(_:on:)` (any layer range, any number of times) → `pool(_:)`.
///
/// Calls on one instance are serialised (they share scratch buffers and OpenBLAS already uses
/// every core); matrix work is blocking, so call it from a dedicated thread, not the cooperative pool.
public final class MiniLMModel: Sendable {
    public let configuration: BertConfiguration
    public let tokenizer: WordPieceTokenizer
    public let weights: ModelWeights
    /// Worker threads of a forward pass. OpenBLAS itself runs single-threaded: the encoder splits
    /// the work (by sequences, or by output columns for one sequence) so that no BLAS thread
    /// pool spin-waits against other processes on a busy machine.
    public let threadCount: Int

    /// The precision the linear layers run in: the one asked for, or fp32 when int8 was asked
    /// for and oneDNN cannot be used (then `precisionWarning` says why).
    public let precision: Precision
    /// Set when the model runs another precision than the one asked for, with the reason.
    public let precisionWarning: String?
    /// The held layers' int8 weights, parallel to `weights.layers`; nil in fp32.
    /// The layers' linear weights packed for oneDNN (int8, or fp32 on `FP32Kernel.oneDNN`); nil
    /// when the products run on OpenBLAS.
    let packedLayers: [PackedLayerWeights]?
    /// oneDNN products (int8, or fp32 on packed weights) that failed and ran on OpenBLAS instead (expected 0).
    let oneDNNFallbacks = Atomic<Int>(0)

    /// One scratch set per sequence group (`groupsPerWorker` per worker thread).
    let workspaces: Mutex<[Workspace]>

    /// Loads a sentence-transformers folder (`config.json`, `vocab.txt`, `model.safetensors`, …).
    ///
    /// - Parameters:
    ///   - threads: worker threads; default is the number of active cores. (OpenBLAS is set to
    ///     one thread, process-wide: the encoder parallelises above it.)
    ///   - layers: the layers to hold (default all), for a pipeline shard.
    ///   - embeddings: whether to hold the embedding tables (only the first shard needs them).
    ///   - precision: of the linear layers; int8 quantizes their weights once, here.
    public convenience init(
        directory: URL, threads: Int? = nil, layers: Range<Int>? = nil, embeddings: Bool = true,
        precision: Precision = .fp32
    ) throws(ModelError) {
        let configuration = try BertConfiguration(directory: directory)
        let tokenizer = try WordPieceTokenizer(directory: directory)
        let file: SafeTensors
        do {
            file = try SafeTensors(contentsOf: directory.appendingPathComponent("model.safetensors"))
        } catch {
            throw .badFile(path: "model.safetensors", reason: String(describing: error))
        }
        let weights = try ModelWeights(
            configuration: configuration, provider: file, layers: layers, embeddings: embeddings)
        try self.init(
            configuration: configuration, tokenizer: tokenizer, weights: weights, threads: threads,
            precision: precision)
    }

    /// Assembles a model from parts, for weights that come from elsewhere (e.g. a decrypted shard).
    public convenience init(
        configuration: BertConfiguration, tokenizer: WordPieceTokenizer, weights: ModelWeights, threads: Int? = nil,
        precision: Precision = .fp32
    ) throws(ModelError) {
        try self.init(
            configuration: configuration, tokenizer: tokenizer, weights: weights, threads: threads,
            precision: precision, library: precision == .int8 || FP32Kernel.chosen == .oneDNN ? OneDNN.shared : nil)
    }

    /// As the public initialiser, with the oneDNN to use given (tests pass one that failed to
    /// open, to see the fall-back to OpenBLAS), the CPU features that decide the int8 ranges
    /// (default: this CPU's; tests pass an AVX2-only CPU to see that fall-back too), and the fp32
    /// kernel (default: `FP32Kernel.chosen`; tests compare both).
    init(
        configuration: BertConfiguration, tokenizer: WordPieceTokenizer, weights: ModelWeights, threads: Int?,
        precision: Precision, library: Result<OneDNN, OneDNN.Unavailable>?,
        features: CPUFeatures = EngineKernel.features, fp32Kernel: FP32Kernel = .chosen
    ) throws(ModelError) {
        guard weights.configuration == configuration else {
            throw .unsupported("weights were loaded for a different configuration")
        }
        self.configuration = configuration
        self.tokenizer = tokenizer
        self.weights = weights
        let count = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        self.threadCount = count
        let range = Int8Linear.range(for: features)
        switch (precision, library, range) {
        case (.int8, .success(let library)?, let range?):
            var packed: [PackedLayerWeights] = []
            for (offset, layer) in weights.layers.enumerated() {
                packed.append(
                    try PackedLayerWeights(
                        int8: layer, index: weights.layerRange.lowerBound + offset, configuration: configuration,
                        range: range, library: library))
            }
            packedLayers = packed
            self.precision = .int8
            precisionWarning = nil
        case (.int8, .success?, nil):
            packedLayers = nil
            self.precision = .fp32
            precisionWarning =
                "int8 was asked for, but this CPU has neither AVX-512 VNNI nor AMX-INT8 (\(features.names)): "
                + "without them int8 products saturate unless a range shrinks, which measured below cosine 0.99 to fp32; "
                + "running fp32 on OpenBLAS."
        case (.int8, .failure(let failure)?, _):
            packedLayers = nil
            self.precision = .fp32
            precisionWarning =
                "int8 was asked for, but oneDNN cannot be used (\(failure.reason)); running fp32 on OpenBLAS. "
                + "Install libdnnl2 (Debian: apt-get install libdnnl2) for int8."
        case (.fp32, .success(let library)?, _) where fp32Kernel == .oneDNN:
            // fp32 on oneDNN with the weights packed once (see `FP32Kernel`); OpenBLAS if oneDNN
            // cannot pack them, which is no loss of accuracy, only of speed.
            var packed: [PackedLayerWeights]? = []
            for (offset, layer) in weights.layers.enumerated() {
                guard
                    let layer = try? PackedLayerWeights(
                        fp32: layer, index: weights.layerRange.lowerBound + offset, configuration: configuration,
                        library: library)
                else {
                    packed = nil
                    break
                }
                packed?.append(layer)
            }
            packedLayers = packed
            self.precision = .fp32
            precisionWarning = nil
        default:
            packedLayers = nil
            self.precision = .fp32
            precisionWarning = nil
        }
        BLAS.setThreadCount(1)
        workspaces = Mutex((0..<(count * Self.groupsPerWorker)).map { _ in Workspace() })
    }

    /// The OpenBLAS kernel family in use (e.g. "Haswell"), for benchmark reports.
    public static var blasCoreName: String { BLAS.coreName }

    /// The library and kernel of the linear layers, e.g. `OpenBLAS Haswell` in fp32 or
    /// `oneDNN 2.6.3 brg:avx512_core_vnni` in int8 (oneDNN's implementation for 128 rows).
    public var matrixKernel: String {
        guard let layer = packedLayers?.first else { return "OpenBLAS \(BLAS.coreName)" }
        let implementation = layer.intermediate.implementation(rows: Int8Linear.rowBlock) ?? "unknown"
        return "oneDNN \(layer.intermediate.library.version) \(implementation)"
    }

    /// Sentence embeddings of `texts`, in order: tokenise, encode all layers, mean-pool, normalise.
    public func embed(texts: [String]) throws(ModelError) -> [[Float]] {
        try embed(tokens: texts.map(tokenizer.encode))
    }

    /// Sentence embeddings of already tokenised sequences.
    ///
    /// Long inputs are processed in passes of at most `maximumTokensPerPass` tokens, which bounds
    /// the scratch memory (about 10 KB per token) whatever the number of texts.
    public func embed(tokens: [[Int32]]) throws(ModelError) -> [[Float]] {
        var results: [[Float]] = []
        results.reserveCapacity(tokens.count)
        for pass in Self.passes(tokens.map(\.count), budget: Self.maximumTokensPerPass) {
            let states = try embeddings(tokens: Array(tokens[pass]))
            results += pool(try runLayers(0..<configuration.layerCount, on: states))
        }
        return results
    }

    /// Consecutive ranges of sequences of at most `budget` tokens each (a longer sequence alone).
    static func passes(_ lengths: [Int], budget: Int) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        while start < lengths.count {
            var end = start
            var used = 0
            while end < lengths.count, end == start || used + lengths[end] <= budget {
                used += lengths[end]
                end += 1
            }
            ranges.append(start..<end)
            start = end
        }
        return ranges
    }

    /// Token budget of one forward pass in `embed`.
    public static let maximumTokensPerPass = 16_384
}
