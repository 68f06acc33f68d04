public import Attestation
import Foundation
import Sodium
public import KeyBroker

extension Topology {
    /// The key broker's configuration for this pipeline: the attested roles (every stage; the
    /// gateway holds no key) with their neighbours, the release policy, the rotation schedule,
    /// the trusted simulated-TEE platform keys (read from the files the topology names), and —
    /// for `reference-build` — the measurement of this very `sealpipe` build with each role's
    /// configuration.
    public func keyBrokerConfiguration(executableDigest: [UInt8]) throws -> KeyBrokerConfiguration {
        let roles = stageRoles.map { role in
            KeyBrokerConfiguration.Role(
                name: role, neighbours: [previousRole(of: role), nextRole(of: role)].compactMap { $0 }.filter { stageRoles.contains($0) },
                hasWeightShard: stage(named: role)?.kind == .encoder)
        }
        let policy = ReleasePolicy(roles: releasePolicy.roles.filter { stageRoles.contains($0.key) })
        var platformKeys: [String] = []
        for path in keyBroker.platformKeyPaths {
            do {
                platformKeys.append(Hex.encode(try PlatformKey.loadPublicKey(from: URL(fileURLWithPath: path)).bytes))
            } catch {
                throw TopologyError(issues: [TopologyIssue(path: "kms.platformKeys", message: "\(path): \(error)")])
            }
        }
        var configuration = KeyBrokerConfiguration(
            pipelineID: name, endpoint: keyBroker.endpoint.description, statePath: keyBroker.statePath,
            rootKeyPath: keyBroker.rootKeyPath, roles: roles, frontRole: stageRoles.first!, resultRole: stageRoles.last!,
            policy: policy, epochSeconds: keyBroker.epoch.timeInterval, graceSeconds: keyBroker.grace.timeInterval,
            manifestTTLSeconds: keyBroker.manifestTTL.timeInterval, trustedPlatformKeys: platformKeys)
        configuration.topologyDigest = Hex.encode(digest)
        configuration.resolveReferenceMeasurements { role in
            SimulatedTEE.measurement(executableDigest: executableDigest, configuration: stageConfigurationBytes(role: role) ?? [])
        }
        return configuration
    }
}
