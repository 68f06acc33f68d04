public import Foundation
public import Inference
public import Sodium
public import Topology
import Trust

/// Where a worker shard's sealed slice of the model lives, and how a worker opens it with the key
/// the broker released. Sealing happens on the broker's host (`ShardSealing` in `Launcher`).
public enum ShardWeights {
    /// Where a role's sealed shard lives: `<state dir>/weights/<role>.sealed`.
    public static func path(for role: String, topology: Topology) -> URL {
        URL(fileURLWithPath: topology.keyBroker.statePath).deletingLastPathComponent()
            .appendingPathComponent("weights").appendingPathComponent("\(role).sealed")
    }

    /// The tensor names a shard of `layers` needs (plus the embedding tables for the first).
    public static func tensorNames(in file: SafeTensors, layers: Range<Int>, embeddings: Bool) -> [String] {
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

    /// Opens a worker's sealed shard with the released key and builds its weights.
    public static func load(
        from file: URL, role: String, key: SecureBytes, configuration: BertConfiguration, layers: Range<Int>,
        embeddings: Bool
    ) throws -> ModelWeights {
        let sealed = try [UInt8](Data(contentsOf: file))
        let opened = try WeightSealer.open(sealed, role: role, key: key)
        return try ModelWeights(configuration: configuration, provider: opened, layers: layers, embeddings: embeddings)
    }
}
