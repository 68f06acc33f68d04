import Foundation
import Testing

@testable import Inference

/// fp32 on oneDNN with packed weights against fp32 on OpenBLAS: the same embeddings (every
/// reference case, batched and alone), the kernel each reports, and OpenBLAS when oneDNN is absent.
@Suite(
    "fp32 kernels", .timeLimit(.minutes(3)),
    .modelPresent,
    .referencePresent)
struct FP32KernelTests {
    static func model(_ kernel: FP32Kernel, library: Result<OneDNN, OneDNN.Unavailable>? = OneDNN.shared) throws
        -> MiniLMModel
    {
        let directory = try #require(TestSupport.modelDirectory)
        let configuration = try BertConfiguration(directory: directory)
        let file = try SafeTensors(contentsOf: directory.appendingPathComponent("model.safetensors"))
        return try MiniLMModel(
            configuration: configuration, tokenizer: try WordPieceTokenizer(directory: directory),
            weights: try ModelWeights(configuration: configuration, provider: file), threads: 2, precision: .fp32,
            library: library, fp32Kernel: kernel)
    }

    @Test(.enabled(if: EngineKernel.oneDNNVersion != nil, "oneDNN (libdnnl.so.2) not installed"))
    func packedOneDNNAndOpenBLASGiveTheSameEmbeddings() throws {
        let packed = try Self.model(.oneDNN)
        let blas = try Self.model(.openBLAS)
        #expect(packed.matrixKernel.hasPrefix("oneDNN "), "\(packed.matrixKernel)")
        #expect(blas.matrixKernel.hasPrefix("OpenBLAS "), "\(blas.matrixKernel)")
        #expect(packed.precision == .fp32 && packed.precisionWarning == nil)
        let cases = try ReferenceTests.load()
        let texts = cases.map(\.text)
        // Batched (row blocks of 128, the last padded) and one at a time (a block of under 16 rows).
        let together = try packed.embed(texts: texts)
        let alone = try texts.map { try packed.embed(texts: [$0])[0] }
        let reference = try blas.embed(texts: texts)
        for (index, item) in cases.enumerated() {
            #expect(TestSupport.cosine(together[index], reference[index]) >= 0.99999, "case \(item.name), batched")
            #expect(TestSupport.cosine(alone[index], reference[index]) >= 0.99999, "case \(item.name), alone")
            #expect(TestSupport.cosine(together[index], item.embedding) >= 0.9999, "case \(item.name) to the reference")
        }
        #expect(packed.oneDNNFallbacks.load(ordering: .relaxed) == 0)
    }

    @Test func withoutOneDNNFP32RunsOnOpenBLAS() throws {
        let missing = OneDNN.open(library: "libdnnl-absent-for-this-test.so.2")
        let model = try Self.model(.oneDNN, library: missing)
        #expect(model.matrixKernel.hasPrefix("OpenBLAS "))
        #expect(model.precision == .fp32 && model.precisionWarning == nil)
        #expect(try model.embed(texts: ["a sentence"])[0].allSatisfy(\.isFinite))
    }
}
