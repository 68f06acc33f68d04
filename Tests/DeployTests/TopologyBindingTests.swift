import Attestation
import Deploy
import Foundation
import KeyBroker
import Sodium
import Testing
import Topology
import Trust

/// A node's evidence binds the delivered topology: the key broker, configured from the rendered
/// topology, refuses a node started from an edited one and names the check.
@Suite("Topology binding")
struct TopologyBindingTests {
    /// A broker over the delivered topology, as its pod runs it (platform key from the test).
    final class Broker {
        let directory: URL
        let platform = PlatformKey.generate()
        let core: KeyBrokerCore

        init(_ topology: Topology) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("bind-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try RootKey.create(at: directory.appendingPathComponent("root.key").path)
            let roles = topology.stageRoles.map { role in
                KeyBrokerConfiguration.Role(
                    name: role,
                    neighbours: [topology.previousRole(of: role), topology.nextRole(of: role)].compactMap { $0 }
                        .filter { topology.stageRoles.contains($0) })
            }
            let executable = try SimulatedTEE.executableDigest(of: SimulatedTEE.runningExecutable)
            var configuration = KeyBrokerConfiguration(
                pipelineID: topology.name, endpoint: "tcp://127.0.0.1:0",
                statePath: directory.appendingPathComponent("kms.sqlite").path,
                rootKeyPath: directory.appendingPathComponent("root.key").path, roles: roles,
                frontRole: topology.stageRoles.first!, resultRole: topology.stageRoles.last!,
                policy: ReleasePolicy(
                    roles: topology.releasePolicy.roles.filter { topology.stageRoles.contains($0.key) }),
                trustedPlatformKeys: [Hex.encode(platform.publicKey.bytes)])
            // What `Topology.keyBrokerConfiguration` pins: this topology's digest and measurements.
            configuration.topologyDigest = Hex.encode(topology.digest)
            configuration.resolveReferenceMeasurements { role in
                SimulatedTEE.measurement(
                    executableDigest: executable,
                    configuration: topology.stageConfigurationBytes(role: role, modelFileDigests: [:]) ?? [])
            }
            core = try KeyBrokerCore(
                configuration: configuration,
                store: try KeyBrokerStore(path: configuration.statePath, rootKeyPath: configuration.rootKeyPath),
                verifier: CompositeVerifier(verifiers: [
                    .simulated: SimulatedVerifier(trustedPlatformKeys: [platform.publicKey])
                ]))
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        /// A node of `role` started from `topology`, naming `claimedDigest` (its own by default).
        func attest(role: String, topology: Topology, claimedDigest: String? = nil) throws -> KMSResponse {
            let ephemeral = BoxKeyPair.generate()
            let nonce = try #require(core.handle(.nonce(role: role)).nonce?.nonce)
            let provider = try SimulatedEvidenceProvider(
                platformKey: platform,
                configuration: try #require(topology.stageConfigurationBytes(role: role, modelFileDigests: [:])),
                warn: { _ in })
            let evidence = try provider.collect(
                reportData: ReportData.binding(nonce: nonce, ephemeralPublicKey: ephemeral.publicKey.bytes, role: role))
            return core.handle(
                .attest(
                    AttestRequest(
                        role: role, nonce: nonce, ephemeralPublicKey: ephemeral.publicKey, evidence: evidence,
                        topologyDigest: claimedDigest ?? Hex.encode(topology.digest))))
        }
    }

    static func refusal(_ response: KMSResponse) -> (check: String, reason: String)? {
        if case .refused(let check, let reason) = response.status { return (check, reason) }
        return nil
    }

    /// The topology text a rendered pod reads: the ConfigMap's `topology.yaml`.
    static func configMapText(_ rendering: Rendering) throws -> String {
        try #require(rendering.objects(ofKind: "ConfigMap").first?.at("data")?["topology.yaml"]?.stringValue)
    }

    @Test("a pod whose ConfigMap gained an edge is refused its keys by the topology check")
    func extraEdge() throws {
        let rendering = try DeployFixture.kubernetes(DeployFixture.topology("echo.yaml"))
        let text = try Self.configMapText(rendering)
        let delivered = try Topology(yaml: text)
        let broker = try Broker(delivered)
        // The unedited pod gets its keys: the check can pass.
        #expect(try broker.attest(role: "shard-1", topology: delivered).status == .ok)
        // A stage spliced in after shard-1: an extra edge shard-1 → tap → postprocessor.
        let edited = try Topology(
            yaml: text.replacingOccurrences(
                of: "  - {name: postprocessor,",
                with: "  - {name: tap, kind: echo, host: pods, replicas: 1}\n  - {name: postprocessor,"))
        #expect(edited.nextRole(of: "shard-1") == "tap")
        let refused = try #require(Self.refusal(try broker.attest(role: "shard-1", topology: edited)))
        #expect(refused.check == "topology")
        #expect(refused.reason.contains("sha256:\(Hex.encode(edited.digest))"))
        #expect(refused.reason.contains("the policy's topology is sha256:\(rendering.topology.digest)"))
    }

    @Test("a pod started with another command line for its role (other batching) is refused by the topology check")
    func anotherCommand() throws {
        let rendering = try DeployFixture.kubernetes(DeployFixture.topology("minilm.yaml"))
        let text = try Self.configMapText(rendering)
        let broker = try Broker(try Topology(yaml: text))
        let edited = try Topology(
            yaml: text.replacingOccurrences(
                of: "layers: [0, 3], batching: {maxBatch: 32", with: "layers: [0, 3], batching: {maxBatch: 8"))
        #expect(edited.stage(named: "shard-0")?.maxBatch == 8)
        #expect(edited.digest != (try Topology(yaml: text)).digest)
        #expect(Self.refusal(try broker.attest(role: "shard-0", topology: edited))?.check == "topology")
    }

    @Test("a node that names the pinned digest but runs an edited file is refused by its measurement")
    func forgedClaim() throws {
        let rendering = try DeployFixture.kubernetes(DeployFixture.topology("echo.yaml"))
        let text = try Self.configMapText(rendering)
        let broker = try Broker(try Topology(yaml: text))
        let edited = try Topology(yaml: text + "# one more line\n")
        let response = try broker.attest(
            role: "preprocessor", topology: edited, claimedDigest: rendering.topology.digest)
        #expect(Self.refusal(response)?.check == "measurement")
        let silent = try broker.attest(role: "preprocessor", topology: edited, claimedDigest: "")
        #expect(Self.refusal(silent)?.check == "topology")
    }
}
