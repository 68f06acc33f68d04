public import Foundation
import Inference
public import KeyBroker
import Sodium
public import Topology
import Trust
import Workloads

/// Seals each worker shard's slice of the model under its own key, which the key broker's store
/// makes and keeps: it runs where the broker runs (`sealpipe launch`, `sealpipe model seal`),
/// never on a worker host.
public enum ShardSealing {
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
            let target = ShardWeights.path(for: stage.name, topology: topology)
            let existingKey = try store.weightKey(role: stage.name)
            if !force, FileManager.default.fileExists(atPath: target.path), existingKey != nil {
                progress("\(stage.name): sealed shard present at \(target.path)")
                continue
            }
            guard let layers = stage.layers,
                let tensors = try ShardWeights.plainTensors(of: stage.name, topology: topology, file: file)
            else { continue }
            // A shard whose file was lost is sealed again under the key the broker already holds.
            let key = try existingKey ?? store.registerWeightKey(role: stage.name)
            let sealed = try WeightSealer.seal(shard: shard, role: stage.name, tensors: tensors, key: key)
            try FileManager.default.createDirectory(
                at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(sealed).write(to: target, options: .atomic)
            progress(
                "\(stage.name): sealed \(tensors.count) tensors of layers \(layers) (\(sealed.count / 1_048_576) MiB) to \(target.path)"
            )
            written.append(target)
        }
        return written
    }

}
