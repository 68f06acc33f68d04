import Foundation
import KeyBroker
import Launcher
import Sodium
import Topology

/// What a containerised key broker does before it serves (`sealpipe kms --prepare`): its root key
/// made inside its own volume, every encoder shard sealed into the shared weights volume, and,
/// when the weights come from a model volume of its own (`--model-source`), the model's
/// non-weight files (configuration, vocabulary) copied to the topology's model directory in that
/// shared volume for the stages. The root key and the plaintext weights never leave the broker's pod.
enum BrokerPreparation {
    /// File extensions of tensor weights: never copied out of the broker's model volume.
    static let weightExtensions: Set<String> = [
        "safetensors", "bin", "pt", "pth", "onnx", "h5", "msgpack", "ckpt", "gguf", "ot", "npz",
    ]

    static func prepare(topology: Topology, modelSource: String?, progress: (String) -> Void) throws {
        let fileManager = FileManager.default
        for path in [topology.keyBroker.statePath, topology.keyBroker.rootKeyPath] {
            if let warning = try PrivateDirectory.prepare(URL(fileURLWithPath: path).deletingLastPathComponent().path) {
                progress("warning: \(warning)")
            }
        }
        if !fileManager.fileExists(atPath: topology.keyBroker.rootKeyPath) {
            try RootKey.create(at: topology.keyBroker.rootKeyPath)
            progress("created the key broker's root key at \(topology.keyBroker.rootKeyPath) (mode 0600)")
        }
        let store = try KeyBrokerStore(path: topology.keyBroker.statePath, rootKeyPath: topology.keyBroker.rootKeyPath)
        // The gateway and every node pin the broker's identity from their first moment: it goes
        // into the volume the broker fills for them (beside the sealed shards), never its own.
        let shared = URL(fileURLWithPath: topology.keyBroker.statePath).deletingLastPathComponent()
            .appendingPathComponent("weights")
        try fileManager.createDirectory(at: shared, withIntermediateDirectories: true)
        let identityFile = shared.appendingPathComponent("kms-identity.pub")
        try Data((Hex.encode(try store.identity().publicKey.bytes) + "\n").utf8).write(
            to: identityFile, options: .atomic)
        progress("wrote the key broker's identity to \(identityFile.path)")
        guard topology.stages.contains(where: { $0.kind == .encoder }), let directory = topology.model.directory else {
            return
        }
        try ShardSealing.sealMissing(topology: topology, store: store, modelDirectory: modelSource, progress: progress)
        guard let modelSource, modelSource != directory else { return }
        let copied = try copyPublicFiles(from: URL(fileURLWithPath: modelSource), to: URL(fileURLWithPath: directory))
        progress("copied \(copied) non-weight model file(s) to \(directory)")
    }

    /// Copies every file under `source` but tensor weights, replacing older copies; returns the count.
    static func copyPublicFiles(from source: URL, to target: URL) throws -> Int {
        let fileManager = FileManager.default
        guard let walker = fileManager.enumerator(at: source, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: source.path])
        }
        var count = 0
        for case let file as URL in walker {
            guard try file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile == true,
                !weightExtensions.contains(file.pathExtension.lowercased())
            else { continue }
            let relative = String(file.standardizedFileURL.path.dropFirst(source.standardizedFileURL.path.count + 1))
            let destination = target.appendingPathComponent(relative)
            try fileManager.createDirectory(
                at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            try? fileManager.removeItem(at: destination)
            try fileManager.copyItem(at: file, to: destination)
            count += 1
        }
        return count
    }
}
