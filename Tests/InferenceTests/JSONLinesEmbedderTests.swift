import Foundation
import Testing

@testable import Inference

@Suite(
    "JSONLinesEmbedder", .timeLimit(.minutes(2)),
    .modelPresent)
struct JSONLinesEmbedderTests {
    @Test func badLinesGetErrorsAndTheRestComeOutInOrder() throws {
        let model = try #require(TestSupport.model)
        let lines = [
            #"{"text": "hello world"}"#, "not json", #"{"txt": "x"}"#, "   ", #"[1, 2]"#, #"{"text": "Bonjour!"}"#,
            #"{"text": "third"}"#,
        ]
        var output: [String] = []
        var failures: [JSONLinesEmbedder.LineError] = []
        let embedder = JSONLinesEmbedder(model: model, batchSize: 2, includeTokens: true)
        let count = embedder.run(lines: lines, output: { output.append($0) }, failure: { failures.append($0) })
        #expect(count == 3)
        #expect(failures.map(\.line) == [2, 3, 5])
        #expect(output.count == 6)  // the blank line 4 is skipped

        let expected = try model.embed(texts: ["hello world", "Bonjour!", "third"])
        for (outputIndex, expectedIndex) in [(0, 0), (4, 1), (5, 2)] {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(output[outputIndex].utf8)) as? [String: Any])
            let embedding = try #require(object["embedding"] as? [Double]).map(Float.init)
            #expect(embedding.count == 384)
            #expect(TestSupport.maxDifference(embedding, expected[expectedIndex]) < 1e-6)
            #expect(object["input_ids"] as? [Int] != nil)
        }
        let first = try #require(try JSONSerialization.jsonObject(with: Data(output[0].utf8)) as? [String: Any])
        #expect(first["input_ids"] as? [Int] == [101, 7592, 2088, 102])
        for (outputIndex, line, message) in [
            (1, 2, "not valid JSON"), (2, 3, "no string field \"text\""), (3, 5, "not a JSON object"),
        ] {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(output[outputIndex].utf8)) as? [String: Any])
            #expect(object["line"] as? Int == line)
            #expect(object["error"] as? String == message)
        }
    }

    @Test func percentilesInterpolateBetweenRanks() {
        let values = (1...10).map(Double.init)
        #expect(ModelBenchmark.percentile(values, 0.5) == 5.5)
        #expect(abs(ModelBenchmark.percentile(values, 0.9) - 9.1) < 1e-12)
        #expect(ModelBenchmark.percentile([3], 0.9) == 3)
    }
}
