import BrokerClient
import Attestation
import Foundation
import KeyBroker
import Sodium
import Testing
import Trust
import ZeroMQ

@Suite("Key broker over ZeroMQ", .timeLimit(.minutes(1)))
struct KeyBrokerServiceTests {
    @Test("a node attests over tcp and opens its bundle; a client verifies the manifest")
    func attestOverSocket() async throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let context = try ZMQContext()
        let service = KeyBrokerService(core: broker, context: context, endpoint: "tcp://127.0.0.1:0")
        let endpoint = try service.start()
        defer { service.stop() }
        #expect(endpoint.hasPrefix("tcp://127.0.0.1:"))

        let client = KeyBrokerClient(endpoint: endpoint, context: context, timeout: .seconds(5))
        let bundle = try await client.attest(
            role: "shard-1", provider: f.provider(), pinnedBrokerKey: broker.identityPublicKey)
        #expect(bundle.role == "shard-1")
        #expect(
            bundle.boxKeys.first?.keyPair.publicKey
                == (try broker.store.boxKeyPair(role: "shard-1", epoch: 1))?.publicKey)

        let manifest = try await client.fetchVerifiedManifest(
            pinnedBrokerKey: broker.identityPublicKey, now: f.clock.now)
        #expect(manifest.frontKey.key == (try broker.store.boxKeyPair(role: "preprocessor", epoch: 1))?.publicKey)
        let head = try await client.treeHead()
        #expect(head.hasValidSignature(by: broker.identityPublicKey))

        await #expect(throws: KeyBrokerClientError.manifestRejected(["signature", "tree-head-signature"])) {
            try await client.fetchVerifiedManifest(
                pinnedBrokerKey: SigningKeyPair.generate().publicKey, now: f.clock.now)
        }
    }

    @Test("a refusal reaches the node as an error naming the failed check")
    func refusalOverSocket() async throws {
        let f = try BrokerFixture()
        let context = try ZMQContext()
        let service = KeyBrokerService(core: try f.openBroker(), context: context, endpoint: "tcp://127.0.0.1:0")
        let endpoint = try service.start()
        defer { service.stop() }
        let client = KeyBrokerClient(endpoint: endpoint, context: context, timeout: .seconds(5))
        var other = f.goodMeasurement
        other[47] ^= 0xFF
        do {
            _ = try await client.attest(
                role: "shard-0", provider: f.provider(measurement: other),
                pinnedBrokerKey: SigningKeyPair.generate().publicKey)
            Issue.record("a different measurement was given keys")
        } catch KeyBrokerClientError.refused(let check, let reason) {
            #expect(check == "measurement")
            #expect(reason.contains(Hex.encode(other)))
        }
    }

    @Test("a client gives up after its timeout when no broker answers")
    func timeout() async throws {
        let context = try ZMQContext()
        let silent = try context.socket(.router)
        let endpoint = try silent.bind("tcp://127.0.0.1:0")
        let client = KeyBrokerClient(endpoint: endpoint, context: context, timeout: .milliseconds(200))
        await #expect(throws: KeyBrokerClientError.timeout(endpoint: endpoint, after: .milliseconds(200))) {
            try await client.treeHead()
        }
        silent.close()
    }
}
