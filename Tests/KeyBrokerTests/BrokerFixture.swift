import Attestation
import Foundation
import KeyBroker
import Sodium
import Synchronization
import Trust

/// A broker over a fresh temporary state, a trusted simulated platform, and a test clock.
final class BrokerFixture: Sendable {
    let directory: URL
    let platform = PlatformKey.generate()
    let clock = TestClock()
    let goodMeasurement = [UInt8](repeating: 0x5A, count: 48)
    let configuration: KeyBrokerConfiguration

    init(policyOverride: ReleasePolicy? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("kms-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try RootKey.create(at: directory.appendingPathComponent("root.key").path)
        let measurement = Hex.encode(goodMeasurement)
        let strict = RolePolicy(evidence: ["simulated": EvidencePolicy(measurements: [measurement])])
        configuration = KeyBrokerConfiguration(
            pipelineID: "test-pipeline", endpoint: "tcp://127.0.0.1:0",
            statePath: directory.appendingPathComponent("kms.sqlite").path,
            rootKeyPath: directory.appendingPathComponent("root.key").path,
            roles: [
                .init(name: "preprocessor", neighbours: ["shard-0"]),
                .init(name: "shard-0", neighbours: ["preprocessor", "shard-1"], hasWeightShard: true),
                .init(name: "shard-1", neighbours: ["shard-0", "postprocessor"], hasWeightShard: true),
                .init(name: "postprocessor", neighbours: ["shard-1"]),
            ],
            frontRole: "preprocessor", resultRole: "postprocessor",
            policy: policyOverride
                ?? ReleasePolicy(roles: [
                    "preprocessor": RolePolicy(evidence: [
                        "simulated": EvidencePolicy(measurements: [EvidencePolicy.referenceBuild])
                    ]),
                    "shard-0": strict, "shard-1": strict,
                    "postprocessor": RolePolicy(evidence: [
                        "simulated": EvidencePolicy(measurements: [measurement], allowDebug: true)
                    ]),
                ]),
            epochSeconds: 600, graceSeconds: 60, manifestTTLSeconds: 300, nonceTTLSeconds: 60,
            trustedPlatformKeys: [Hex.encode(platform.publicKey.bytes)],
            referenceMeasurements: ["preprocessor": measurement])
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    var verifier: CompositeVerifier {
        CompositeVerifier(verifiers: [.simulated: SimulatedVerifier(trustedPlatformKeys: [platform.publicKey])])
    }

    func openStore() throws -> KeyBrokerStore {
        try KeyBrokerStore(path: configuration.statePath, rootKeyPath: configuration.rootKeyPath)
    }

    func openBroker(configuration: KeyBrokerConfiguration? = nil) throws -> KeyBrokerCore {
        try KeyBrokerCore(
            configuration: configuration ?? self.configuration, store: try openStore(), verifier: verifier,
            clock: { [clock] in clock.now })
    }

    func provider(measurement: [UInt8]? = nil, debug: Bool = false, platform: PlatformKey? = nil)
        -> SimulatedEvidenceProvider
    {
        SimulatedEvidenceProvider(
            platformKey: platform ?? self.platform, measurement: measurement ?? goodMeasurement, debug: debug,
            clock: { [clock] in clock.now }, warn: { _ in })
    }

    /// Runs nonce → evidence → attest against `broker` directly.
    func attest(
        _ broker: KeyBrokerCore, role: String, evidenceRole: String? = nil, ephemeral: BoxKeyPair = .generate(),
        boundKey: BoxPublicKey? = nil, provider: SimulatedEvidenceProvider? = nil, nonce: [UInt8]? = nil,
        mutateEvidence: (inout Evidence) -> Void = { _ in }
    ) throws -> (KMSResponse, BoxKeyPair, [UInt8]) {
        let granted = nonce ?? broker.handle(.nonce(role: role)).nonce!.nonce
        let reportData = ReportData.binding(
            nonce: granted, ephemeralPublicKey: (boundKey ?? ephemeral.publicKey).bytes, role: evidenceRole ?? role)
        var evidence = try (provider ?? self.provider()).collect(reportData: reportData)
        mutateEvidence(&evidence)
        let response = broker.handle(
            .attest(
                AttestRequest(role: role, nonce: granted, ephemeralPublicKey: ephemeral.publicKey, evidence: evidence)))
        return (response, ephemeral, granted)
    }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
    var now: Date { current.withLock { $0 } }
    func advance(by seconds: TimeInterval) { current.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

extension KMSResponse {
    var refusedCheck: String? {
        if case .refused(let check, _) = status { return check }
        return nil
    }
}
