import Attestation
import Foundation
public import KeyBroker
import Sodium
import TimeUnits
public import Topology
import Workloads

extension Topology {
    /// The key broker's configuration for this pipeline: the attested roles (every stage; the
    /// gateway holds no key) with their neighbours, the release policy, the rotation schedule,
    /// the trusted simulated-TEE platform keys (read from the files the topology names), and —
    /// for `reference-build` — the measurement of this very `sealpipe` build with each role's
    /// configuration. `weightsDirectory` is where the model's weights are read for the shards'
    /// content hashes — the directory the shards are sealed from (a container broker's model
    /// volume, `--model-source`); the topology's model directory by default.
    public func keyBrokerConfiguration(executableDigest: [UInt8], weightsDirectory: String? = nil) throws
        -> KeyBrokerConfiguration
    {
        var roles = stageRoles.map { role in
            KeyBrokerConfiguration.Role(
                name: role,
                neighbours: [previousRole(of: role), nextRole(of: role)].compactMap { $0 }.filter {
                    stageRoles.contains($0)
                },
                hasWeightShard: stage(named: role)?.kind == .encoder)
        }
        var policy = ReleasePolicy(roles: releasePolicy.roles.filter { stageRoles.contains($0.key) }, path: stageRoles)
        // The model version: each encoder shard's content hash, from the broker host's model (the
        // copy the shards are sealed from). Released with the keys, logged with the release, named
        // in receipts; a node whose sealed shard holds anything else refuses to serve.
        for (role, digest) in try ShardWeights.contentDigests(topology: self, modelDirectory: weightsDirectory) {
            policy.roles[role]?.shardDigest = digest
        }
        func load(_ path: String, place: String) throws -> String {
            do {
                return Hex.encode(try PlatformKey.loadPublicKey(from: URL(fileURLWithPath: path)).bytes)
            } catch {
                throw TopologyError(issues: [TopologyIssue(path: place, message: "\(path): \(error)")])
            }
        }
        var platformKeys: [String] = []
        // With one key per host, each role is trusted only with its own host's key.
        var hostKeys: [String: String] = [:]
        if hosts.contains(where: { $0.platformKeyPath != nil }) {
            for host in hosts {
                guard let path = host.platformKeyPath else { continue }
                hostKeys[host.name] = try load(path, place: "hosts.\(host.name).platformKey")
            }
            platformKeys = hostKeys.values.sorted()
        } else {
            for path in keyBroker.platformKeyPaths { platformKeys.append(try load(path, place: "kms.platformKeys")) }
        }
        if !hostKeys.isEmpty {
            for index in roles.indices {
                let host = stage(named: roles[index].name)?.host
                roles[index].platformKeys = host.flatMap { hostKeys[$0] }.map { [$0] } ?? []
            }
        }
        var configuration = KeyBrokerConfiguration(
            pipelineID: name, endpoint: keyBroker.endpoint.description, statePath: keyBroker.statePath,
            rootKeyPath: keyBroker.rootKeyPath, roles: roles, frontRole: stageRoles.first!,
            resultRole: stageRoles.last!,
            policy: policy, epochSeconds: keyBroker.epoch.secondsValue, graceSeconds: keyBroker.grace.secondsValue,
            manifestTTLSeconds: keyBroker.manifestTTL.secondsValue, trustedPlatformKeys: platformKeys,
            collateralDirectory: keyBroker.collateralPath)
        // A node whose topology file differs from the broker's (an edited ConfigMap) is refused.
        configuration.topologyDigest = Hex.encode(digest)
        // The reference covers the model files as the broker's host has them: a node whose copy
        // differs (one word of vocab.txt) measures differently and gets no keys.
        var digests: [String: [String: String]] = [:]
        for role in stageRoles { digests[role] = try ModelFileDigests.compute(topology: self, role: role) }
        // What a hardware node's MRCONFIGID / HOST_DATA must carry: the same configuration bytes.
        configuration.configurationDigests = Dictionary(
            uniqueKeysWithValues: stageRoles.compactMap { role in
                stageConfigurationBytes(role: role, modelFileDigests: digests[role] ?? [:]).map {
                    (role, Hex.encode(ConfigurationBinding.digest(configuration: $0)))
                }
            })
        configuration.resolveReferenceMeasurements { role in
            SimulatedTEE.measurement(
                executableDigest: executableDigest,
                configuration: stageConfigurationBytes(role: role, modelFileDigests: digests[role] ?? [:]) ?? [])
        }
        return configuration
    }
}
