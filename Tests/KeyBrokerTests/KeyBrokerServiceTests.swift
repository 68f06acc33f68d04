import Attestation
import BrokerClient
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
            pinnedBrokerKey: broker.identityPublicKey, allowSimulated: true, now: f.clock.now)
        #expect(manifest.frontKey.key == (try broker.store.boxKeyPair(role: "preprocessor", epoch: 1))?.publicKey)
        let head = try await client.treeHead()
        #expect(head.hasValidSignature(by: broker.identityPublicKey))

        await #expect(throws: KeyBrokerClientError.manifestRejected(["signature", "tree-head-signature"])) {
            try await client.fetchVerifiedManifest(
                pinnedBrokerKey: SigningKeyPair.generate().publicKey, allowSimulated: true, now: f.clock.now)
        }
        // The fixture's policy accepts only simulated evidence: refused unless allowed.
        await #expect(throws: KeyBrokerClientError.manifestRejected(["simulated-evidence"])) {
            try await client.fetchVerifiedManifest(pinnedBrokerKey: broker.identityPublicKey, now: f.clock.now)
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

    /// Sends `frames` from a fresh DEALER and returns the reply's last frame.
    static func exchange(_ frames: [[UInt8]], endpoint: String, context: ZMQContext) throws -> KMSResponse? {
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.connect(endpoint)
        _ = try socket.send(frames)
        guard let reply = try socket.receive(timeout: .seconds(5))?.last else { return nil }
        return try KMSResponse(decoding: reply)
    }

    @Test("a message of too many frames, or too many bytes across legal frames, is answered and dropped")
    func messageBounds() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let context = try ZMQContext()
        let service = KeyBrokerService(core: broker, context: context, endpoint: "tcp://127.0.0.1:0")
        let endpoint = try service.start()
        defer { service.stop() }
        let request = try KMSRequest.treeHead.encoded()

        let many = try Self.exchange([[]] + Array(repeating: request, count: 4), endpoint: endpoint, context: context)
        #expect(many?.statusMessage.contains("at most 2 frames") == true)
        let half = [UInt8](repeating: 0x20, count: 600 * 1024)
        let large = try Self.exchange([half, half], endpoint: endpoint, context: context)
        #expect(large?.statusMessage.contains("frames and") == true)
        #expect(broker.metrics.rejections == ["too-many-frames": 1, "oversize": 1])
        // Far over the bound (16 times its frames) is no mistake: the connection is closed unanswered.
        #expect(try Self.exchange([[]] + Array(repeating: [1], count: 40), endpoint: endpoint, context: context) == nil)
        #expect(broker.metrics.rejections["closed-oversize"] == 1)
        // Ordinary requests, with and without the empty delimiter, are still served.
        #expect(try Self.exchange([[], request], endpoint: endpoint, context: context)?.treeHead != nil)
        #expect(try Self.exchange([request], endpoint: endpoint, context: context)?.treeHead != nil)
    }

    @Test("a node told busy backs off and retries until the broker has room, and then gets its keys")
    func busyBackoff() async throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let context = try ZMQContext()
        let service = KeyBrokerService(core: broker, context: context, endpoint: "tcp://127.0.0.1:0")
        let endpoint = try service.start()
        defer { service.stop() }
        // Another process on this address holds every nonce the address may have.
        for _ in 0..<KeyBrokerCore.maximumNoncesPerPeer {
            #expect(broker.handle(.nonce(role: "shard-1"), peer: "127.0.0.1").status == .ok)
        }
        let client = KeyBrokerClient(
            endpoint: endpoint, context: context, timeout: .seconds(5),
            busyBackoff: .init(initial: .milliseconds(20), maximum: .milliseconds(100), patience: .seconds(30)))
        let attest = Task {
            try await client.attest(role: "shard-0", provider: f.provider(), pinnedBrokerKey: broker.identityPublicKey)
        }
        // Within the client's 30 s of patience: on a loaded machine the test runner's threads can
        // stall the client's retries for seconds (seen once in a full parallel run at 10 s).
        let deadline = ContinuousClock.now + .seconds(25)
        while (broker.metrics.rejections["nonce-peer-quota"] ?? 0) < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect((broker.metrics.rejections["nonce-peer-quota"] ?? 0) >= 3, "the client was never told busy")
        f.clock.advance(by: f.configuration.nonceTTLSeconds)
        let bundle = try await attest.value
        #expect(bundle.role == "shard-0")

        let impatient = KeyBrokerClient(
            endpoint: endpoint, context: context, timeout: .seconds(5),
            busyBackoff: .init(initial: .milliseconds(10), maximum: .milliseconds(20), patience: .milliseconds(100)))
        for _ in 0..<KeyBrokerCore.maximumNoncesPerPeer {
            _ = broker.handle(.nonce(role: "shard-1"), peer: "127.0.0.1")
        }
        do {
            _ = try await impatient.attest(
                role: "shard-0", provider: f.provider(), pinnedBrokerKey: broker.identityPublicKey)
            Issue.record("a client past its patience got keys")
        } catch let error as KeyBrokerClientError {
            #expect(error.isBusy && error.isWorthRetrying && !error.isUnreachable)
        }
    }
}
