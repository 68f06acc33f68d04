import Attestation
public import Foundation
import KeyBroker
import Sodium
public import Topology

/// What `sealpipe launch` makes sure of before it starts anything on a host: the key broker's
/// root key and identity (its public key written for the gateway, the nodes and clients to
/// pin), the simulated TEE's platform key, and (where the broker runs) the sealed weight
/// shards. Each step is skipped when already done, so launching twice changes nothing.
public enum LaunchPreparation {
    /// Runs the steps this host needs; `progress` receives one line per step.
    public static func prepare(topology: Topology, host: String?, platformKeyDirectory: URL, progress: (String) -> Void) throws {
        let runsBroker = host == nil || host == topology.keyBroker.host
        if runsBroker {
            for path in [topology.keyBroker.statePath, topology.keyBroker.rootKeyPath] {
                if let warning = try PrivateDirectory.prepare(URL(fileURLWithPath: path).deletingLastPathComponent().path) {
                    progress("warning: \(warning)")
                }
            }
            if !FileManager.default.fileExists(atPath: topology.keyBroker.rootKeyPath) {
                try RootKey.create(at: topology.keyBroker.rootKeyPath)
                progress("created the key broker's root key at \(topology.keyBroker.rootKeyPath) (mode 0600)")
            }
        }
        let platformKeyFile = platformKeyDirectory.appendingPathComponent(PlatformKey.secretFileName)
        if !FileManager.default.fileExists(atPath: platformKeyFile.path) {
            try FileManager.default.createDirectory(at: platformKeyDirectory, withIntermediateDirectories: true)
            _ = try PlatformKey.create(in: platformKeyDirectory)
            progress("created a simulated-TEE platform key in \(platformKeyDirectory.path) (SIMULATION: not a hardware root of trust)")
        }
        if runsBroker {
            let store = try KeyBrokerStore(path: topology.keyBroker.statePath, rootKeyPath: topology.keyBroker.rootKeyPath)
            // The gateway and the nodes pin this key from their first moment, so it is written
            // before any of them starts (the broker makes its identity on first use).
            let identity = Hex.encode(try store.identity().publicKey.bytes)
            let file = brokerIdentityFile(topology: topology)
            let written = try? String(contentsOf: file, encoding: .utf8)
            if written?.trimmingCharacters(in: .whitespacesAndNewlines) != identity {
                try Data((identity + "\n").utf8).write(to: file, options: .atomic)
                progress("wrote the key broker's identity to \(file.path) (pin it; copy it to other hosts)")
            }
            if topology.stages.contains(where: { $0.kind == .encoder }) {
                try ShardSealing.sealMissing(topology: topology, store: store, progress: progress)
            }
        }
    }

    /// Where the launcher records the broker's identity key for clients to pin.
    public static func brokerIdentityFile(topology: Topology) -> URL {
        URL(fileURLWithPath: topology.keyBroker.statePath).deletingLastPathComponent().appendingPathComponent("kms-identity.pub")
    }
}
