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
    public static func prepare(topology: Topology, host: String?, platformKeyDirectory: URL, progress: (String) -> Void)
        throws
    {
        let runsBroker = host == nil || host == topology.keyBroker.host
        if runsBroker {
            for path in [topology.keyBroker.statePath, topology.keyBroker.rootKeyPath] {
                if let warning = try PrivateDirectory.prepare(
                    URL(fileURLWithPath: path).deletingLastPathComponent().path)
                {
                    progress("warning: \(warning)")
                }
            }
            if !FileManager.default.fileExists(atPath: topology.keyBroker.rootKeyPath) {
                try RootKey.create(at: topology.keyBroker.rootKeyPath)
                progress("created the key broker's root key at \(topology.keyBroker.rootKeyPath) (mode 0600)")
            }
        }
        // This host's own platform key (each host of several has its own; the secret never leaves it).
        let hostsHere = host.map { [$0] } ?? topology.hosts.map(\.name)
        for directory in Set(
            hostsHere.map { platformKeyFile(topology: topology, host: $0, default: platformKeyDirectory) }
                .map { $0.deletingLastPathComponent() })
        where !FileManager.default.fileExists(atPath: directory.appendingPathComponent(PlatformKey.secretFileName).path)
        {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            _ = try PlatformKey.create(in: directory)
            progress(
                "created a simulated-TEE platform key in \(directory.path) (SIMULATION: not a hardware root of trust)")
        }
        if runsBroker {
            // The broker trusts each host's public key; they are copied here, never the secrets.
            for other in topology.hosts {
                guard let path = other.platformKeyPath, !FileManager.default.fileExists(atPath: path) else { continue }
                throw LaunchError.missingPlatformKey(host: other.name, path: path)
            }
            let store = try KeyBrokerStore(
                path: topology.keyBroker.statePath, rootKeyPath: topology.keyBroker.rootKeyPath)
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

    /// The platform key a node on `host` signs simulated evidence with: beside the host's public
    /// key when the topology names one (`hosts.NAME.platformKey`), otherwise in `default`.
    public static func platformKeyFile(topology: Topology, host: String, default directory: URL) -> URL {
        let base =
            topology.host(named: host)?.platformKeyPath.map { URL(fileURLWithPath: $0).deletingLastPathComponent() }
            ?? directory
        return base.appendingPathComponent(PlatformKey.secretFileName)
    }

    /// What stops a host's preparation.
    public enum LaunchError: Error, CustomStringConvertible {
        case missingPlatformKey(host: String, path: String)

        public var description: String {
            switch self {
            case .missingPlatformKey(let host, let path):
                "hosts.\(host).platformKey: \(path) is missing; on host \(host) run `sealpipe platform init --out DIR` "
                    + "(or launch its share once) and copy only DIR/platform.pub here"
            }
        }
    }

    /// Where the launcher records the broker's identity key for clients to pin.
    public static func brokerIdentityFile(topology: Topology) -> URL {
        URL(fileURLWithPath: topology.keyBroker.statePath).deletingLastPathComponent().appendingPathComponent(
            "kms-identity.pub")
    }
}
