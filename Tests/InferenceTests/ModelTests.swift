import Foundation
import Testing

@testable import Inference

@Suite(
    "MiniLM encoder", .timeLimit(.minutes(3)),
    .modelPresent)
struct ModelTests {
    static let texts = [
        "The quick brown fox jumps over the lazy dog.",
        "",
        "Confidential inference keeps data sealed between services, even from the operators of the machines.",
        "東京でラーメンを食べました。",
    ]

    @Test func loadsTheConfiguration() throws {
        let model = try #require(TestSupport.model)
        let c = model.configuration
        #expect((c.hiddenSize, c.layerCount, c.headCount, c.headSize, c.intermediateSize) == (384, 6, 12, 32, 1536))
        #expect(c.maxSequenceLength == 256 && c.normalizes)
    }

    @Test func embeddingsAreUnitVectorsIndependentOfBatching() throws {
        let model = try #require(TestSupport.model)
        let batched = try model.embed(texts: Self.texts)
        #expect(batched.count == Self.texts.count)
        for (index, text) in Self.texts.enumerated() {
            let alone = try model.embed(texts: [text])[0]
            #expect(alone.count == 384)
            let norm = alone.reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norm - 1) < 1e-5)
            #expect(TestSupport.maxDifference(alone, batched[index]) < 1e-5)
        }
        #expect(try model.embed(texts: []).isEmpty)
    }

    @Test(arguments: [[0..<2, 2..<4, 4..<6], [0..<3, 3..<6], [0..<1, 1..<1, 1..<6]])
    func shardsInSequenceEqualTheWholeModel(ranges: [Range<Int>]) throws {
        let model = try #require(TestSupport.model)
        let tokens = Self.texts.map(model.tokenizer.encode)
        let start = try model.embeddings(tokens: tokens)
        let whole = try model.runLayers(0..<6, on: start)
        var staged = start
        for range in ranges { staged = try model.runLayers(range, on: staged) }
        #expect(TestSupport.maxDifference(whole.values, staged.values) <= 1e-6)
        let pooledWhole = model.pool(whole)
        let pooledStaged = model.pool(staged)
        for (a, b) in zip(pooledWhole, pooledStaged) { #expect(TestSupport.maxDifference(a, b) <= 1e-6) }
    }

    @Test func shardInstancesHoldOnlyTheirLayersAndMatchTheWholeModel() throws {
        let model = try #require(TestSupport.model)
        let directory = try #require(TestSupport.modelDirectory)
        let first = try MiniLMModel(directory: directory, threads: 2, layers: 0..<3)
        let second = try MiniLMModel(directory: directory, threads: 2, layers: 3..<6, embeddings: false)
        #expect(first.weights.layerRange == 0..<3 && first.weights.hasEmbeddings)
        #expect(second.weights.layerRange == 3..<6 && !second.weights.hasEmbeddings)
        let tokens = Self.texts.map(model.tokenizer.encode)
        // Across a stage boundary the states travel through the codec, as in the pipeline.
        let middle = try first.runLayers(0..<3, on: first.embeddings(tokens: tokens))
        guard case .hiddenStates(let received) = try TensorCodec.decode(TensorCodec.encode(.hiddenStates(middle)))
        else {
            Issue.record("codec changed the payload kind")
            return
        }
        let staged = second.pool(try second.runLayers(3..<6, on: received))
        let whole = try model.embed(tokens: tokens)
        for (a, b) in zip(staged, whole) { #expect(TestSupport.maxDifference(a, b) <= 1e-6) }

        #expect(throws: ModelError.layersNotLoaded(requested: 2..<4, loaded: 3..<6)) {
            try second.runLayers(2..<4, on: received)
        }
        #expect(throws: ModelError.embeddingsNotLoaded) { try second.embeddings(tokens: tokens) }
    }

    @Test func longInputsAreCutIntoBoundedPasses() {
        #expect(MiniLMModel.passes([], budget: 10).isEmpty)
        #expect(MiniLMModel.passes([4, 4, 4], budget: 10) == [0..<2, 2..<3])
        #expect(MiniLMModel.passes([12, 3, 7, 10], budget: 10) == [0..<1, 1..<3, 3..<4])
        #expect(
            MiniLMModel.passes(Array(repeating: 256, count: 70), budget: MiniLMModel.maximumTokensPerPass).count == 2)
    }

    @Test func refusesBadInputs() throws {
        let model = try #require(TestSupport.model)
        #expect(throws: ModelError.tokenOutOfRange(sequence: 1, position: 1, id: 30522, vocabularySize: 30522)) {
            try model.embeddings(tokens: [[101, 102], [101, 30522, 102]])
        }
        #expect(throws: ModelError.badSequenceLength(sequence: 0, length: 0, maximum: 512)) {
            try model.embeddings(tokens: [[]])
        }
        #expect(throws: ModelError.badSequenceLength(sequence: 0, length: 513, maximum: 512)) {
            try model.embeddings(tokens: [Array(repeating: 100, count: 513)])
        }
        let narrow = HiddenStates(hiddenSize: 8, lengths: [1], values: Array(repeating: 0, count: 8))
        #expect(throws: ModelError.hiddenSizeMismatch(expected: 384, actual: 8)) {
            try model.runLayers(0..<1, on: narrow)
        }
        #expect(throws: ModelError.layersNotLoaded(requested: 5..<7, loaded: 0..<6)) {
            try model.runLayers(5..<7, on: try model.embeddings(tokens: [[101, 102]]))
        }
    }

    @Test func loadsFromAnyTensorProviderAndChecksShapes() throws {
        let model = try #require(TestSupport.model)
        let directory = try #require(TestSupport.modelDirectory)
        let file = try SafeTensors(contentsOf: directory.appendingPathComponent("model.safetensors"))
        // A dictionary provider stands in for weights decrypted from a sealed shard.
        var tensors: [String: FloatTensor] = [:]
        for name in file.names where name.hasPrefix("encoder.layer.5.") {
            tensors[name] = try file.floatTensor(named: name)
        }
        let weights = try ModelWeights(
            configuration: model.configuration, provider: tensors, layers: 5..<6, embeddings: false)
        let shard = try MiniLMModel(configuration: model.configuration, tokenizer: model.tokenizer, weights: weights)
        let input = try model.runLayers(0..<5, on: model.embeddings(tokens: [[101, 7592, 102]]))
        #expect(try shard.runLayers(5..<6, on: input) == model.runLayers(5..<6, on: input))

        tensors["encoder.layer.5.output.dense.bias"] = FloatTensor(shape: [2], values: [0, 0])
        #expect(
            throws: ModelError.shapeMismatch(tensor: "encoder.layer.5.output.dense.bias", expected: [384], actual: [2])
        ) {
            try ModelWeights(configuration: model.configuration, provider: tensors, layers: 5..<6, embeddings: false)
        }
        #expect(throws: ModelError.missingTensor("encoder.layer.4.attention.self.query.weight")) {
            try ModelWeights(configuration: model.configuration, provider: tensors, layers: 4..<6, embeddings: false)
        }
    }
}
