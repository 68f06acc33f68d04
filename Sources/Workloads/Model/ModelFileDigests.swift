public import Foundation
import Inference
import Sodium
public import Topology

/// The SHA-256 digests of the model files a role reads in clear, for its measured
/// configuration (`Topology.stageConfigurationBytes(role:modelFileDigests:)`).
///
/// A node computes them from its own copy of the model before it attests and again after it
/// has loaded its workload (so a file swapped in between is caught); the key broker computes
/// the reference from the broker host's copy. Any edit to a file a stage reads — one word of
/// `vocab.txt` — is then a different measurement, and the broker releases no keys to it.
public enum ModelFileDigests {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case unreadable(path: String, reason: String)
        /// A file changed while the node was starting.
        case changed(path: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read model file \(path): \(reason)"
            case .changed(let path): "model file \(path) changed while the stage was starting; refusing to serve"
            }
        }
    }

    /// The digests for `role`: none for the echo workload, the gateway or a topology without a
    /// model directory; otherwise one per file of `ModelDirectory.filesReadInClear` present.
    public static func compute(topology: Topology, role: String) throws(Failure) -> [String: String] {
        guard let directory = topology.model.directory, let stage = topology.stage(named: role), stage.kind != .echo
        else {
            return [:]
        }
        return try compute(directory: URL(fileURLWithPath: directory))
    }

    /// The digests of every file of `ModelDirectory.filesReadInClear` present in `directory`.
    public static func compute(directory: URL) throws(Failure) -> [String: String] {
        var digests: [String: String] = [:]
        for name in ModelDirectory.filesReadInClear {
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            do {
                digests[name] = Hex.encode(SHA256.hash([UInt8](try Data(contentsOf: url))))
            } catch {
                throw .unreadable(path: url.path, reason: "\(error)")
            }
        }
        return digests
    }

    /// Throws naming the first file whose digest differs from `expected` (or appeared, or went).
    public static func verifyUnchanged(_ expected: [String: String], topology: Topology, role: String) throws(Failure) {
        let now = try compute(topology: topology, role: role)
        for name in Set(expected.keys).union(now.keys).sorted() where expected[name] != now[name] {
            throw .changed(path: name)
        }
    }
}
