import Attestation
import BrokerClient
import Foundation
import KeyBroker
import Sodium
import Testing
import Trust
import Wire
import ZeroMQ

/// Revocation and rotation: a policy change starts a new epoch and releases nothing of the old
/// ones; signing keys rotate with the epoch and are certified by the broker per epoch; a node
/// takes a bundle only when the broker it pins signed the release.
@Suite("Key revocation and rotation", .timeLimit(.minutes(1)))
struct KeyRevocationTests {
    func openBundle(_ response: KMSResponse, _ ephemeral: BoxKeyPair) throws -> KeyBundle {
        try KeyBundle.open(try #require(response.sealedBundle), with: ephemeral)
    }

    @Test("signing keys rotate with the epoch; the previous one stays only for its grace, certified per epoch")
    func signingKeysRotate() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let (first, firstEphemeral, _) = try f.attest(broker, role: "shard-0")
        let epoch1 = try openBundle(first, firstEphemeral)
        #expect(epoch1.schedule.epoch == 1)
        let manifest1 = try broker.manifest()

        f.clock.advance(by: 600)  // the epoch ends; the next request starts epoch 2
        let (second, secondEphemeral, _) = try f.attest(broker, role: "shard-0")
        let epoch2 = try openBundle(second, secondEphemeral)
        #expect(epoch2.schedule.epoch == 2)
        #expect(epoch2.signingKeys.map(\.epoch) == [2, 1])
        let key1 = try #require(epoch1.signingKeyPair(epoch: 1)).publicKey
        let key2 = try #require(epoch2.signingKeyPair(epoch: 2)).publicKey
        #expect(key1 != key2)
        #expect(epoch2.signingKeyPair(epoch: 1)?.publicKey == key1)
        // Neighbours' signing keys come per epoch too, and differ.
        let upstream = try #require(epoch2.neighbour("preprocessor"))
        #expect(upstream.signingKeys.map(\.epoch) == [2, 1])
        #expect(upstream.signingKeys[0].key != upstream.signingKeys[1].key)
        // The certificate names the current epoch's key, signed by the broker, ending with the grace.
        #expect(epoch2.certificate.epoch == 2 && epoch2.certificate.signingKey == key2.bytes)
        #expect(epoch2.certificate.notAfter == epoch2.schedule.endsAt + 60_000)
        #expect(epoch2.certificateProblem(pinnedBrokerKey: broker.identityPublicKey) == nil)
        #expect(epoch2.certificateProblem(pinnedBrokerKey: SigningKeyPair.generate().publicKey) != nil)
        // The manifest's result signer follows the epoch.
        let manifest2 = try broker.manifest()
        #expect(manifest2.resultSigner != manifest1.resultSigner)
        #expect(manifest2.resultSigner == (try broker.store.signingKeyPair(role: "postprocessor", epoch: 2)).publicKey)

        f.clock.advance(by: 61)  // the grace after epoch 1 is over
        let (third, thirdEphemeral, _) = try f.attest(broker, role: "shard-0")
        #expect(try openBundle(third, thirdEphemeral).signingKeys.map(\.epoch) == [2])
    }

    @Test("a policy change starts a new epoch at once, releases no old key, and refuses the old measurement")
    func policyChangeRevokes() throws {
        let f = try BrokerFixture()
        let before = try f.openBroker()
        let (released, ephemeral, _) = try f.attest(before, role: "shard-0")
        let old = try openBundle(released, ephemeral)
        #expect(old.schedule.epoch == 1)

        // Same state, edited policy: shard-0 must now run another build.
        var newMeasurement = f.goodMeasurement
        newMeasurement[0] ^= 0xFF
        var configuration = f.configuration
        configuration.policy.roles["shard-0"]!.evidence["simulated"]!.measurements = [Hex.encode(newMeasurement)]
        f.clock.advance(by: 10)  // well inside epoch 1 and long before its grace would end
        let after = try f.openBroker(configuration: configuration)

        // The node still running the old build is refused.
        let (refused, _, _) = try f.attest(after, role: "shard-0")
        #expect(refused.refusedCheck == "measurement")
        #expect(refused.sealedBundle == nil)

        // The new build gets only the new epoch's keys: nothing released under the old policy.
        let (fresh, freshEphemeral, _) = try f.attest(
            after, role: "shard-0", provider: f.provider(measurement: newMeasurement))
        let bundle = try openBundle(fresh, freshEphemeral)
        #expect(bundle.schedule.epoch == 2)
        #expect(bundle.boxKeys.map(\.epoch) == [2])
        #expect(bundle.signingKeys.map(\.epoch) == [2])
        #expect(bundle.neighbours.allSatisfy { $0.boxKeys.map(\.epoch) == [2] && $0.signingKeys.map(\.epoch) == [2] })
        #expect(bundle.boxKeys[0].keyPair.publicKey != old.boxKeys[0].keyPair.publicKey)
        #expect(bundle.signingKeys[0].keyPair.publicKey != old.signingKeys[0].keyPair.publicKey)
        // Other roles, whose policy did not change, are moved to the new epoch as well.
        let (other, otherEphemeral, _) = try f.attest(after, role: "shard-1")
        #expect(try openBundle(other, otherEphemeral).boxKeys.map(\.epoch) == [2])
        let manifest = try after.manifest()
        #expect(manifest.frontKey.epoch == 2)
        #expect(manifest.previousFrontKey == nil)

        // The change and the new epoch are in the log, one right after the other.
        let entries = try after.store.entries().map { try LogEntry(encoded: $0) }
        let change = try #require(entries.lastIndex { if case .policyChange = $0 { true } else { false } })
        guard case .epochRotation(let rotation) = entries[change + 1] else {
            Issue.record("the policy change is not followed by a new epoch")
            return
        }
        #expect(rotation.epoch == 2)

        // Reopened with the same (new) policy, nothing is revoked again.
        let again = try f.openBroker(configuration: configuration)
        #expect(try again.rotateIfDue().epoch == 2)
    }

    @Test("a policy change logged by a start that stopped before revoking is revoked at the next start")
    func interruptedRevocationCompletes() throws {
        let f = try BrokerFixture()
        _ = try f.openBroker()
        var configuration = f.configuration
        configuration.policy.roles["shard-0"]!.evidence["simulated"]!.measurements = [
            Hex.encode([UInt8](repeating: 0x11, count: 48))
        ]
        // What the start with the new policy had done when it stopped: logged the change, nothing more.
        let store = try f.openStore()
        let newPolicy = try configuration.resolvedPolicy()
        _ = try store.appendPolicyChange(
            .init(
                time: 1, pipelineID: configuration.pipelineID, policy: newPolicy.canonicalBytes,
                previousPolicyDigest: try #require(try store.meta("policy-digest"))),
            now: 1)
        f.clock.advance(by: 10)
        let after = try f.openBroker(configuration: configuration)
        #expect(try after.rotateIfDue().epoch == 2)
        let (released, ephemeral, _) = try f.attest(after, role: "shard-1")
        #expect(try openBundle(released, ephemeral).boxKeys.map(\.epoch) == [2])
    }

    /// Relays a node's requests to `broker` over a real socket, letting `tamper` rewrite each reply.
    final class Relay: Sendable {
        let endpoint: String
        private let done = DispatchSemaphore(value: 0)

        init(
            broker: KeyBrokerCore, context: ZMQContext, requests: Int,
            tamper: @escaping @Sendable (KMSResponse) -> KMSResponse
        )
            throws
        {
            // Handed to the relay thread and used only there from then on.
            nonisolated(unsafe) let socket = try context.socket(.router)
            endpoint = try socket.bind("tcp://127.0.0.1:*")
            let done = self.done
            Thread {
                defer { done.signal() }
                for _ in 0..<requests {
                    guard let frames = try? socket.receive(timeout: .seconds(10)), frames.count == 3 else { return }
                    let reply = tamper(try! KMSResponse(decoding: broker.handle(requestBytes: frames[2])))
                    _ = try? socket.send([frames[0], [], try! reply.encoded()])
                }
                socket.close()
            }.start()
        }

        func wait() { _ = done.wait(timeout: .now() + 10) }
    }

    @Test(
        "a node refuses a bundle the pinned broker did not sign, and takes one it did",
        arguments: ["honest", "unsigned", "other-broker", "other-request"])
    func nodePinsTheBroker(variant: String) async throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let context = try ZMQContext()
        let impostor = SigningKeyPair.generate()
        let relay = try Relay(broker: broker, context: context, requests: 2) { response in
            guard let sealed = response.sealedBundle else { return response }
            var changed = response
            switch variant {
            case "unsigned":
                changed.bundleSignature = nil
            case "other-broker":
                // Sealed to the node's key and signed — by a broker the node does not pin.
                changed.bundleSignature = impostor.signature(for: Array(sealed.prefix(8)))
            case "other-request":
                // The genuine broker's signature, but over another request's nonce.
                changed.bundleSignature = BundleRelease.sign(
                    nonce: SecureRandom.bytes(32), ephemeralKey: BoxKeyPair.generate().publicKey, sealedBundle: sealed,
                    identity: try! broker.store.identity())
            default:
                break
            }
            return changed
        }
        defer { relay.wait() }
        let client = KeyBrokerClient(endpoint: relay.endpoint, context: context, timeout: .seconds(20))
        do {
            let bundle = try await client.attest(
                role: "shard-0", provider: f.provider(), pinnedBrokerKey: broker.identityPublicKey)
            #expect(variant == "honest")
            #expect(bundle.role == "shard-0")
        } catch KeyBrokerClientError.untrustedBundle(let reason) {
            #expect(variant != "honest")
            #expect(reason.contains(variant == "unsigned" ? "not signed" : "pinned key broker"))
        }
    }

    @Test("the genuine broker's release is refused by a node that pins another broker")
    func nodeRefusesAnotherBroker() async throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let context = try ZMQContext()
        let service = KeyBrokerService(core: broker, context: context, endpoint: "tcp://127.0.0.1:0")
        let endpoint = try service.start()
        defer { service.stop() }
        let client = KeyBrokerClient(endpoint: endpoint, context: context, timeout: .seconds(5))
        await #expect(throws: KeyBrokerClientError.self) {
            _ = try await client.attest(
                role: "shard-0", provider: f.provider(), pinnedBrokerKey: SigningKeyPair.generate().publicKey)
        }
        let bundle = try await client.attest(
            role: "shard-0", provider: f.provider(), pinnedBrokerKey: broker.identityPublicKey)
        #expect(bundle.certificate.role == "shard-0")
    }
}
