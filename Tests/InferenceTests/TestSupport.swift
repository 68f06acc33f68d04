import Foundation
import Inference
import Testing

/// Locations the tests read in place: the model folder and the reference fixture.
enum TestSupport {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `SEALPIPE_MODEL_DIR`, else `<repo>/models/all-MiniLM-L6-v2`; nil when it holds no model.
    static let modelDirectory: URL? = {
        let url =
            ProcessInfo.processInfo.environment["SEALPIPE_MODEL_DIR"].map { URL(fileURLWithPath: $0) }
            ?? repositoryRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
        let file = url.appendingPathComponent("model.safetensors").path
        return FileManager.default.fileExists(atPath: file) ? url : nil
    }()

    static var hasModel: Bool { modelDirectory != nil }

    /// One full model shared by the tests (loading costs a fraction of a second).
    static let model: MiniLMModel? = modelDirectory.flatMap { try? MiniLMModel(directory: $0, threads: 2) }

    static let referenceURL = repositoryRoot.appendingPathComponent(
        "Tests/InferenceTests/Fixtures/minilm-reference.json")

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("inference-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double { Similarity.cosine(a, b) }

    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }
}

// The two conditions the model's tests share, written once so every suite skips alike and says why.
extension Trait where Self == ConditionTrait {
    /// Runs only where the model files are (`Scripts/fetch-model.sh`, or `SEALPIPE_MODEL_DIR`).
    static var modelPresent: Self {
        .enabled(if: TestSupport.hasModel, "model folder not found (models/all-MiniLM-L6-v2 or SEALPIPE_MODEL_DIR)")
    }

    /// Runs only where the sentence-transformers reference fixture is.
    static var referencePresent: Self {
        .enabled(
            if: FileManager.default.fileExists(atPath: TestSupport.referenceURL.path), "reference fixture not found")
    }
}
