import Foundation
import Testing

@testable import Inference

/// The int8 path: its accuracy bounds against fp32 (every reference case, and retrieval), and
/// the fall-back to fp32 when oneDNN is missing.
@Suite(
    "int8 engine", .timeLimit(.minutes(5)),
    .modelPresent,
    .referencePresent)
struct Int8Tests {
    /// The same model in int8; nil when oneDNN cannot be opened on this host.
    static let int8Model: MiniLMModel? = TestSupport.modelDirectory.flatMap {
        try? MiniLMModel(directory: $0, threads: 2, precision: .int8)
    }

    /// Whether int8 can run here: oneDNN opens and the CPU has VNNI (else the model runs fp32,
    /// which `int8FallsBackWithoutVNNI` checks).
    static var hasOneDNN: Bool {
        EngineKernel.oneDNNVersion != nil && Int8Linear.range(for: EngineKernel.features) != nil
    }

    struct Retrieval: Decodable {
        struct Query: Decodable {
            var text: String
            var expected: Int
        }
        var documents: [String]
        var queries: [Query]
    }

    static func retrieval() throws -> Retrieval {
        let url = TestSupport.repositoryRoot.appendingPathComponent("Tests/InferenceTests/Fixtures/retrieval.json")
        return try JSONDecoder().decode(Retrieval.self, from: Data(contentsOf: url))
    }

    /// Index of the most similar document, and its lead over the runner-up.
    static func nearest(_ query: [Float], in documents: [[Float]]) -> (index: Int, margin: Double) {
        let scores = documents.map { TestSupport.cosine(query, $0) }
        let ranked = scores.enumerated().sorted { $0.element > $1.element }
        return (ranked[0].offset, ranked[0].element - ranked[1].element)
    }

    @Test(.enabled(if: hasOneDNN, "oneDNN (libdnnl.so.2) not installed"))
    func int8RunsInInt8OnOneDNN() throws {
        let model = try #require(Self.int8Model)
        #expect(model.precision == .int8)
        #expect(model.precisionWarning == nil)
        #expect(model.matrixKernel.hasPrefix("oneDNN "))
        #expect(try #require(TestSupport.model).precision == .fp32, "fp32 stays the default")
    }

    @Test(.enabled(if: hasOneDNN, "oneDNN (libdnnl.so.2) not installed"))
    func int8EmbeddingsStayWithinCosine099OfTheReference() throws {
        let int8 = try #require(Self.int8Model)
        let fp32 = try #require(TestSupport.model)
        let cases = try ReferenceTests.load()
        let quantized = try int8.embed(texts: cases.map(\.text))
        let exact = try fp32.embed(texts: cases.map(\.text))
        var worst = 1.0
        for (index, item) in cases.enumerated() {
            let toReference = TestSupport.cosine(quantized[index], item.embedding)
            let toEngine = TestSupport.cosine(quantized[index], exact[index])
            worst = min(worst, toReference, toEngine)
            #expect(toReference >= 0.99, "case \(item.name): cosine \(toReference) to sentence-transformers")
            #expect(toEngine >= 0.99, "case \(item.name): cosine \(toEngine) to the fp32 engine")
        }
        #expect(int8.oneDNNFallbacks.load(ordering: .relaxed) == 0)
        // Not a bound, but a check that int8 really quantized: fp32 would be ≥ 0.9999 everywhere.
        #expect(worst < 0.99999)
    }

    @Test(.enabled(if: hasOneDNN, "oneDNN (libdnnl.so.2) not installed"))
    func int8FindsTheSameNearestDocument() throws {
        let int8 = try #require(Self.int8Model)
        let fp32 = try #require(TestSupport.model)
        let fixture = try Self.retrieval()
        let exactDocuments = try fp32.embed(texts: fixture.documents)
        let quantizedDocuments = try int8.embed(texts: fixture.documents)
        let exactQueries = try fp32.embed(texts: fixture.queries.map(\.text))
        let quantizedQueries = try int8.embed(texts: fixture.queries.map(\.text))
        for (index, query) in fixture.queries.enumerated() {
            // The fixture itself: fp32's nearest neighbour is the expected one, clearly.
            let exact = Self.nearest(exactQueries[index], in: exactDocuments)
            #expect(exact.index == query.expected, "query \(index): fp32 picks \(exact.index)")
            #expect(exact.margin >= 0.05, "query \(index): fp32 margin \(exact.margin) is not clear")
            let quantized = Self.nearest(quantizedQueries[index], in: quantizedDocuments)
            #expect(quantized.index == query.expected, "query \(index): int8 picks \(quantized.index)")
        }
    }

    @Test(.enabled(if: hasOneDNN, "oneDNN (libdnnl.so.2) not installed"))
    func int8ShardsMatchTheWholeInt8Model() throws {
        let directory = try #require(TestSupport.modelDirectory)
        let whole = try #require(Self.int8Model)
        let first = try MiniLMModel(directory: directory, threads: 2, layers: 0..<3, precision: .int8)
        let second = try MiniLMModel(
            directory: directory, threads: 2, layers: 3..<6, embeddings: false, precision: .int8)
        let tokens = ["a shard runs its own layers", "in int8 too"].map(whole.tokenizer.encode)
        let states = try first.runLayers(0..<3, on: try first.embeddings(tokens: tokens))
        let sharded = second.pool(try second.runLayers(3..<6, on: states))
        let together = try whole.embed(tokens: tokens)
        for (a, b) in zip(sharded, together) { #expect(TestSupport.maxDifference(a, b) <= 1e-6) }
    }

    @Test(.enabled(if: EngineKernel.oneDNNVersion != nil, "oneDNN (libdnnl.so.2) not installed"))
    func int8FallsBackWithoutVNNIAndSaysSo() throws {
        let directory = try #require(TestSupport.modelDirectory)
        let configuration = try BertConfiguration(directory: directory)
        let file = try SafeTensors(contentsOf: directory.appendingPathComponent("model.safetensors"))
        let weights = try ModelWeights(configuration: configuration, provider: file, layers: 0..<1)
        let avx2: CPUFeatures = [.sse3, .ssse3, .sse41, .sse42, .avx, .avx2, .fma]
        let model = try MiniLMModel(
            configuration: configuration, tokenizer: try WordPieceTokenizer(directory: directory),
            weights: weights, threads: 1, precision: .int8, library: OneDNN.shared, features: avx2)
        #expect(model.precision == .fp32)
        #expect(model.matrixKernel.hasPrefix("OpenBLAS "))
        let warning = try #require(model.precisionWarning)
        #expect(warning.contains("VNNI") && warning.contains("avx2,fma"))
    }

    @Test func missingOneDNNFallsBackToFP32AndSaysSo() throws {
        let directory = try #require(TestSupport.modelDirectory)
        let configuration = try BertConfiguration(directory: directory)
        let file = try SafeTensors(contentsOf: directory.appendingPathComponent("model.safetensors"))
        let weights = try ModelWeights(configuration: configuration, provider: file, layers: 0..<1)
        let missing = OneDNN.open(library: "libdnnl-absent-for-this-test.so.2")
        guard case .failure(let failure) = missing else {
            Issue.record("a library that does not exist opened")
            return
        }
        #expect(failure.reason.contains("libdnnl-absent-for-this-test.so.2"))
        let model = try MiniLMModel(
            configuration: configuration, tokenizer: try WordPieceTokenizer(directory: directory), weights: weights,
            threads: 1, precision: .int8, library: missing)
        #expect(model.precision == .fp32)
        #expect(model.matrixKernel.hasPrefix("OpenBLAS "))
        let warning = try #require(model.precisionWarning)
        #expect(warning.contains("int8") && warning.contains("libdnnl-absent-for-this-test.so.2"))
        // And it computes: fp32 on OpenBLAS.
        let states = try model.runLayers(0..<1, on: try model.embeddings(tokens: [[101, 7592, 102]]))
        #expect(states.values.allSatisfy { $0.isFinite })
    }

    @Test func precisionNamesParseAndOthersAreRefusedByName() throws {
        #expect(try Precision(parsing: "fp32") == .fp32)
        #expect(try Precision(parsing: "int8") == .int8)
        for bad in ["INT8", "fp16", "", "int4"] {
            #expect(throws: ModelError.unsupported("precision \"\(bad)\" (known: fp32, int8)")) {
                try Precision(parsing: bad)
            }
        }
    }
}
