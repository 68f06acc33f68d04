import Foundation
import Gateway
import Logging
import SealpipeClient
import Sodium
import StageRuntime
import Testing
import Trust
import Wire
import ZeroMQ

/// The backend port is reachable by anyone: only a replica that proves its attested role gets
/// work. And a stage's sender check follows the key epoch: the upstream's key for the hop's
/// epoch, none once that epoch's grace is over.
@Suite("Backend proof and per-epoch signing", .timeLimit(.minutes(1)))
struct BackendProofTests {
    /// A raw DEALER on the backend, as an attacker would open one.
    func dealer(_ context: ZMQContext, routingID: String, to endpoint: String) throws -> Socket {
        let socket = try context.socket(.dealer)
        try socket.setRoutingID(Array(routingID.utf8))
        try socket.connect(endpoint)
        return socket
    }

    func ready(_ announcement: ReplicaAnnouncement) -> [[UInt8]] {
        [
            MessageHeader(type: .ready, jobID: JobID(bytes: Array(repeating: 0, count: 16))!).encoded(),
            announcement.encoded(),
        ]
    }

    func now() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    @Test func aFakeReplicaOnTheBackendGetsNoJobAndItsRejectionsAreIgnored() throws {
        let harness = try InProcessPipelineTests.Harness()
        defer { harness.shutDown() }
        let context = try ZMQContext()
        // A front-stage impostor with room for every job, certified by a broker of its own.
        let impostor = SigningKeyPair.generate()
        let fake = try dealer(context, routingID: "pre.0.fake", to: harness.backend)
        defer { fake.close() }
        let forged = RoleCertificate(
            pipelineID: InProcessPipelineTests.pipelineID, role: "pre", epoch: 1, signingKey: impostor.publicKey.bytes,
            notAfter: now() + 3_600_000
        ).signed(with: SigningKeyPair.generate())
        var announcement = ReplicaAnnouncement(
            role: "pre", replica: 0, instance: 7, capacity: 100_000, epochs: [1], timestamp: now(),
            certificate: forged.encoded())
        announcement.signature = impostor.signature(for: announcement.signedBytes(routingID: Array("pre.0.fake".utf8)))
        try fake.send(ready(announcement))

        // A genuine announcement, captured from a real stage runtime of the front role (it
        // announces to a ROUTER of ours, as a tap on its connection would see it), then replayed
        // to the gateway from another connection.
        let captured = try captureAnnouncement(keys: harness.keys(for: "pre", index: 0), context: context)
        let replayer = try dealer(context, routingID: "pre.0.replayer", to: harness.backend)
        defer { replayer.close() }
        try replayer.send(captured)

        let refused = { harness.gateway.snapshot.counters.announcementsRefused }
        let waitUntil = ContinuousClock.now + .seconds(5)
        while refused().values.reduce(0, +) < 2, ContinuousClock.now < waitUntil { Thread.sleep(forTimeInterval: 0.01) }
        #expect(refused() == ["certificate_signature": 1, "announcement_signature": 1])

        // Every job goes to the genuine replicas and comes back intact.
        let client = try PipelineClient(target: harness.target)
        let bodies = (0..<7).map { Array("job \($0)".utf8) }
        let answers = try client.submit(bodies, timeout: .seconds(10))
        #expect(answers.map { try? $0.get() } == bodies)
        for socket in [fake, replayer] { #expect(try socket.receive(timeout: .milliseconds(100)) == nil) }

        // Its rejections, and results, end nothing and are counted.
        for type in [MessageType.reject, .forward] {
            let header = MessageHeader(type: type, code: ErrorCode.stageFailed.rawValue, jobID: .random())
            try fake.send(
                [
                    header.encoded(), type == .forward ? Array("sealed".utf8) : Array("refused".utf8),
                    Array(repeating: 0, count: 64),
                ])
        }
        let dropped = { harness.gateway.snapshot.counters.droppedFromReplicas["unproven_peer"] ?? 0 }
        while dropped() < 2, ContinuousClock.now < waitUntil + .seconds(5) { Thread.sleep(forTimeInterval: 0.01) }
        #expect(dropped() == 2)
        #expect(harness.gateway.snapshot.replicas.map(\.role).sorted() == ["mid", "post", "pre"])
    }

    /// The `ready` frames a real `StageRuntime` with `keys` sends on connecting.
    func captureAnnouncement(keys: StageKeys, context: ZMQContext) throws -> [[UInt8]] {
        let tap = try context.socket(.router)
        defer { tap.close() }
        let endpoint = try tap.bind("tcp://127.0.0.1:*")
        let stage = StageRuntime(
            keys: keys, workload: EchoWorkload(),
            settings: .init(
                replica: 0, gatewayEndpoint: endpoint, maxBatch: 1, maxDelay: .milliseconds(1), capacity: 1,
                heartbeatInterval: .seconds(10), maxDeadline: .seconds(300)),
            logger: Logger(label: "test.captured"))
        let done = DispatchSemaphore(value: 0)
        Thread {
            try? stage.serve()
            done.signal()
        }.start()
        defer {
            stage.drain()
            _ = done.wait(timeout: .now() + 5)
        }
        let frames = try #require(try tap.receive(timeout: .seconds(5)))
        let announcement = try ReplicaAnnouncement(decoding: frames[2])
        #expect(announcement.role == "pre")
        #expect(String(decoding: frames[0], as: UTF8.self).hasPrefix("pre.0."))
        return Array(frames.dropFirst())
    }

    @Test func aJobInFlightIsCheckedAgainstTheResultSignerOfTheEpochItWasSealedFor() throws {
        let harness = try InProcessPipelineTests.Harness()
        defer { harness.shutDown() }
        let client = try PipelineClient(target: harness.target)
        let before = try client.send(Array("sealed before the rotation".utf8), timeout: .seconds(10))
        // A fresh manifest arrives meanwhile, naming the next epoch's result signer.
        var next = harness.target
        next.resultSigner = (role: "post", key: SigningKeyPair.generate().publicKey)
        try client.retarget(next)
        let after = try client.send(Array("sealed after it".utf8), timeout: .seconds(10))
        var answers: [JobID: Result<[UInt8], ClientError>] = [:]
        while answers.count < 2,
            let (id, answer) = try client.receive(pending: [before.id: before, after.id: after], timeout: .seconds(10))
        {
            answers[id] = answer.map(\.body)
        }
        #expect((try? answers[before.id]?.get()) == Array("sealed before the rotation".utf8))
        // This pipeline's last stage still signs with the old key: under the new target, refused.
        let afterError: ClientError? =
            if case .failure(let error) = answers[after.id] { error } else { nil }
        #expect(afterError == .badResultSignature)
    }

    /// Keys of a `pre` → `mid` hop in epochs 1 and 2, as two bundles from the broker give them.
    struct EpochKeys {
        let preSigning: [UInt32: SigningKeyPair] = [1: .generate(), 2: .generate()]
        let midBox: [UInt32: BoxKeyPair] = [1: .generate(), 2: .generate()]
        let midSigning = SigningKeyPair.generate()

        func sender(signing: [UInt32: SigningKeyPair]) -> HopSender {
            HopSender(
                keys: StageKeys(
                    role: "pre", position: 0, boxKeys: [1: .generate(), 2: .generate()], signing: signing,
                    certificate: InProcessPipelineTests.certificate(role: "pre", key: signing.values.first!),
                    upstream: nil, downstream: (role: "mid", boxKeys: midBox.mapValues(\.publicKey))))
        }

        /// The receiver during epoch 2's grace for epoch 1.
        var receiver: StageKeys {
            StageKeys(
                role: "mid", position: 1, boxKeys: midBox, signing: [2: midSigning],
                certificate: InProcessPipelineTests.certificate(role: "mid", key: midSigning, epoch: 2),
                upstream: (role: "pre", signingKeys: preSigning.mapValues(\.publicKey)), downstream: nil)
        }
    }

    func hop(_ sender: HopSender, epoch: UInt32) throws -> [[UInt8]] {
        let job = HopReceiver.AcceptedJob(
            jobID: .random(), deadline: now() + 60_000, expiresAt: now() + 60_000,
            replyKey: BoxKeyPair.generate().publicKey.bytes,
            body: SecureBytes(copying: [1]))
        var message = try sender.bundle(id: .random(), epoch: epoch, outputs: [(job, SecureBytes(copying: [9, 9]))])
        message.header.type = .workBundle
        message.header.hop = 1
        return message.frames
    }

    @Test func aHopIsCheckedWithTheUpstreamKeyOfItsEpochAndRefusedOnceThatEpochsGraceEnds() throws {
        let keys = EpochKeys()
        let honest = keys.sender(signing: keys.preSigning)
        var receiver = HopReceiver(keys: keys.receiver, limits: .init(maxDeadlineMilliseconds: 300_000))
        // During grace both epochs are accepted, each under its own key.
        for epoch: UInt32 in [2, 1] {
            let accepted = receiver.receive(frames: try hop(honest, epoch: epoch), now: now())
            #expect((try? accepted.get())?.epoch == epoch)
        }
        // The previous epoch's key does not sign for the current epoch.
        let stale = keys.sender(signing: [2: keys.preSigning[1]!])
        guard case .failure(let wrongKey) = receiver.receive(frames: try hop(stale, epoch: 2), now: now()) else {
            Issue.record("a hop under epoch 2 signed with epoch 1's key was accepted")
            return
        }
        #expect(wrongKey.code == .badSender && wrongKey.check == "sender")

        // The grace ends: the node forgets epoch 1's keys, its upstream's signing key among them.
        receiver.update(keys: keys.receiver.forgetting(epoch: 1))
        #expect(receiver.keys.upstream?.signingKeys.keys.sorted() == [2])
        guard case .failure(let late) = receiver.receive(frames: try hop(honest, epoch: 1), now: now()) else {
            Issue.record("a hop signed with the previous epoch's key after its grace was accepted")
            return
        }
        #expect(late.code == .unknownEpoch && late.check == "epoch")
        #expect((try? receiver.receive(frames: try hop(honest, epoch: 2), now: now()).get())?.epoch == 2)
    }
}
