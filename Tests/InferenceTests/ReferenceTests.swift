import Foundation
import Testing

@testable import Inference

/// Cases from sentence-transformers on PyTorch (Tests/InferenceTests/Fixtures/minilm-reference.json).
struct ReferenceCase: Decodable {
    var name: String
    var text: String
    var inputIDs: [Int32]
    var embedding: [Float]

    enum CodingKeys: String, CodingKey {
        case name, text, embedding
        case inputIDs = "input_ids"
    }
}

struct ReferenceFile: Decodable {
    var cases: [ReferenceCase]
}

@Suite(
    "Reference outputs", .timeLimit(.minutes(3)),
    .modelPresent,
    .referencePresent)
struct ReferenceTests {
    static func load() throws -> [ReferenceCase] {
        try JSONDecoder().decode(ReferenceFile.self, from: Data(contentsOf: TestSupport.referenceURL)).cases
    }

    @Test func tokenIDsEqualTheReference() throws {
        let model = try #require(TestSupport.model)
        let cases = try Self.load()
        #expect(cases.count >= 30)
        for item in cases {
            #expect(model.tokenizer.encode(item.text) == item.inputIDs, "case \(item.name)")
        }
    }

    @Test func embeddingsMatchTheReference() throws {
        let model = try #require(TestSupport.model)
        let cases = try Self.load()
        let embeddings = try model.embed(texts: cases.map(\.text))
        for (item, embedding) in zip(cases, embeddings) {
            let cosine = TestSupport.cosine(embedding, item.embedding)
            #expect(cosine >= 0.9999, "case \(item.name): cosine \(cosine)")
        }
    }
}
