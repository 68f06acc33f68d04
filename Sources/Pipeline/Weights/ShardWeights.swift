public import Foundation
public import Inference
public import KeyBroker
public import Sodium
public import Trust

/// Seals each worker shard's slice of the model under its own key (registered with the key
/// broker), and opens a sealed shard again with the key the broker released.
public enum ShardWeights {
    /// Where a role's sealed shard lives: `<state dir>/weights/<role>.sealed`.
    public static func path(for role: String, topology: Topology) -> URL {
        URL(fileURLWithPath: topology.keyBroker.statePath).deletingLastPathComponent()
            .appendingPathComponent("weights").appendingPathComponent("\(role).sealed")
    }

    /// The tensor names a shard of `layers` needs (plus the embedding tables for the first).
    static func tensorNames(in file: SafeTensors, layers: Range<Int>, embeddings: Bool) -> [String] {
        file.names.filter { name in
            if name.hasPrefix("embeddings.") { return embeddings }
            let parts = name.split(separator: ".")
            // "encoder.layer.N.…"
            if parts.count > 2, parts[0] == "encoder", parts[1] == "layer", let index = Int(parts[2]) {
                return layers.contains(index)
            }
            return false
        }
    }

    /// Seals every encoder shard of `topology` that has no sealed file yet; returns the files written.
    /// Keys are made and kept by the broker's store (opened with the root key), never written elsewhere.
    /// `modelDirectory` overrides where the weights are read (a container's model volume).
    @discardableResult
    public static func sealMissing(
        topology: Topology, store: KeyBrokerStore, modelDirectory: String? = nil, force: Bool = false,
        progress: (String) -> Void
    ) throws -> [URL] {
        guard let directory = modelDirectory ?? topology.model.directory else { return [] }
        let model = URL(fileURLWithPath: directory).appendingPathComponent("model.safetensors")
        let file = try SafeTensors(contentsOf: model)
        var written: [URL] = []
        let encoders = topology.stages.filter { $0.kind == .encoder }
        for (shard, stage) in encoders.enumerated() {
            let target = path(for: stage.name, topology: topology)
            let existingKey = try store.weightKey(role: stage.name)
            if !force, FileManager.default.fileExists(atPath: target.path), existingKey != nil {
                progress("\(stage.name): sealed shard present at \(target.path)")
                continue
            }
            guard let layers = stage.layers else { continue }
            var tensors: [String: PlainTensor] = [:]
            for name in tensorNames(in: file, layers: layers, embeddings: shard == 0) {
                guard let info = file.tensors[name] else { continue }
                tensors[name] = PlainTensor(dtype: info.dtype.rawValue, shape: info.shape, bytes: try file.data(of: name))
            }
            // A shard whose file was lost is sealed again under the key the broker already holds.
            let key = try existingKey ?? store.registerWeightKey(role: stage.name)
            let sealed = try WeightSealer.seal(shard: shard, role: stage.name, tensors: tensors, key: key)
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(sealed).write(to: target, options: .atomic)
            progress("\(stage.name): sealed \(tensors.count) tensors of layers \(layers) (\(sealed.count / 1_048_576) MiB) to \(target.path)")
            written.append(target)
        }
        return written
    }

    /// Opens a worker's sealed shard with the released key and builds its weights.
    public static func load(
        from file: URL, role: String, key: SecureBytes, configuration: BertConfiguration, layers: Range<Int>, embeddings: Bool
    ) throws -> ModelWeights {
        let sealed = try [UInt8](Data(contentsOf: file))
        let opened = try WeightSealer.open(sealed, role: role, key: key)
        return try ModelWeights(configuration: configuration, provider: opened, layers: layers, embeddings: embeddings)
    }
}
