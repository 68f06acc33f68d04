public import Foundation
public import Inference
public import Sodium
public import Topology
public import Trust

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

    /// The tensors of encoder stage `role`'s shard, read from the model's safetensors file: its
    /// layers, and the embedding tables for the first encoder. `nil` for a role that is not an
    /// encoder stage.
    public static func plainTensors(of role: String, topology: Topology, file: SafeTensors) throws
        -> [String: PlainTensor]?
    {
        let encoders = topology.stages.filter { $0.kind == .encoder }
        guard let shard = encoders.firstIndex(where: { $0.name == role }), let layers = encoders[shard].layers else {
            return nil
        }
        var tensors: [String: PlainTensor] = [:]
        for name in tensorNames(in: file, layers: layers, embeddings: shard == 0) {
            guard let info = file.tensors[name] else { continue }
            tensors[name] = PlainTensor(dtype: info.dtype.rawValue, shape: info.shape, bytes: try file.data(of: name))
        }
        return tensors
    }

    /// The content hash (`WeightSealer.contentDigest`) of every encoder stage's shard, by role,
    /// lower-case hex, from the model in `modelDirectory` (default: the topology's): what the
    /// release policy lists as the model version each shard serves. Empty without a model.
    public static func contentDigests(topology: Topology, modelDirectory: String? = nil) throws -> [String: String] {
        guard let directory = modelDirectory ?? topology.model.directory,
            topology.stages.contains(where: { $0.kind == .encoder })
        else { return [:] }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("model.safetensors")
        let file: SafeTensors
        do {
            file = try SafeTensors(contentsOf: path)
        } catch {
            throw ContentDigestFailure(
                reason: "the encoder shards' content hashes (the model version the policy lists) need the "
                    + "model's weights at \(path.path): \(error)")
        }
        var digests: [String: String] = [:]
        for stage in topology.stages where stage.kind == .encoder {
            guard let tensors = try plainTensors(of: stage.name, topology: topology, file: file) else { continue }
            digests[stage.name] = Hex.encode(WeightSealer.contentDigest(of: tensors))
        }
        return digests
    }

    /// The weights the shards' content hashes are computed from cannot be read.
    public struct ContentDigestFailure: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { reason }
    }

    /// A sealed shard whose content is not the model version the policy lists.
    public struct ContentMismatch: Error, CustomStringConvertible {
        public let path: String
        public let found: String
        public let expected: String

        public var description: String {
            "sealed shard \(path) holds model content sha256:\(found), but the policy in force lists "
                + "sha256:\(expected) for this role; refusing to serve another model version (re-seal the shard "
                + "from the model the policy was made from)"
        }
    }

    /// Opens a worker's sealed shard with the released key and builds its weights. With an
    /// `expectedDigest` (the policy's shard digest, released with the key), refuses a shard
    /// whose decrypted content hashes to anything else, naming the file.
    public static func load(
        from file: URL, role: String, key: SecureBytes, expectedDigest: [UInt8] = [], configuration: BertConfiguration,
        layers: Range<Int>, embeddings: Bool
    ) throws -> ModelWeights {
        let sealed = try [UInt8](Data(contentsOf: file))
        let opened = try WeightSealer.open(sealed, role: role, key: key)
        if !expectedDigest.isEmpty {
            let found = opened.contentDigest
            guard ConstantTime.equals(found, expectedDigest) else {
                throw ContentMismatch(path: file.path, found: Hex.encode(found), expected: Hex.encode(expectedDigest))
            }
        }
        return try ModelWeights(configuration: configuration, provider: opened, layers: layers, embeddings: embeddings)
    }
}
