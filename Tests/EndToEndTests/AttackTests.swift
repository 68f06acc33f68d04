import Foundation
import Testing

/// Attacks on a live pipeline, each by the check that stops it (docs/security.md, "Threats").
extension EndToEndTests {
    /// A host edits one word of the preprocessor's `vocab.txt` (which would make shard-0 fail on
    /// out-of-range token ids and, before, leak words of the input). The stage's measurement
    /// covers the contents of every model file it reads, so the edited node is refused its keys,
    /// and the refusal names the check.
    @Test func aNodeWhoseVocabularyWasEditedGetsNoKeys() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("sealpipe-model-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.createDirectory(
            at: copy.appendingPathComponent("1_Pooling"), withIntermediateDirectories: true)
        let original = LaunchedPipeline.modelDirectory
        let files = try FileManager.default.subpathsOfDirectory(atPath: original.path).filter {
            var directory: ObjCBool = false
            return FileManager.default.fileExists(
                atPath: original.appendingPathComponent($0).path, isDirectory: &directory)
                && !directory.boolValue
        }
        for file in files where file != "vocab.txt" {
            try FileManager.default.createSymbolicLink(
                at: copy.appendingPathComponent(file), withDestinationURL: original.appendingPathComponent(file))
        }
        let vocabulary = copy.appendingPathComponent("vocab.txt")
        try FileManager.default.copyItem(at: original.appendingPathComponent("vocab.txt"), to: vocabulary)

        let source = try String(
            contentsOf: LaunchedPipeline.repositoryRoot.appendingPathComponent("Topologies/minilm.yaml"),
            encoding: .utf8)
        let topology = source.replacingOccurrences(
            of: "directory: models/all-MiniLM-L6-v2", with: "directory: \(copy.path)")
        try #require(topology != source)
        let pipeline = try LaunchedPipeline(topology: "edited-vocab.yaml", contents: topology)
        defer { _ = pipeline.stop() }

        // The host swaps one word for another: same number of lines, different ids for both.
        var words = try String(contentsOf: vocabulary, encoding: .utf8).components(separatedBy: "\n")
        let the = try #require(words.firstIndex(of: "the"))
        let secret = try #require(words.firstIndex(of: "secret"))
        words.swapAt(the, secret)
        try words.joined(separator: "\n").write(to: vocabulary, atomically: true, encoding: .utf8)

        let node = try pipeline.run(
            ["node", "--topology", "edited-vocab.yaml", "--role", "preprocessor", "--replica", "0"], timeout: 60)
        #expect(node.status != 0)
        #expect(node.errors.contains("check measurement"), "\(node.errors)")

        // The pipeline the broker started with (before the edit) still serves.
        let target = try pipeline.verifiedTarget(
            stateDirectory: "minilm", keyBroker: "tcp://127.0.0.1:5550", front: "tcp://127.0.0.1:5555")
        #expect(target.epoch > 0)
        #expect(pipeline.stop() == 0)
    }
}
