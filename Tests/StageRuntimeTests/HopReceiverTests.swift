import Sodium
import StageRuntime
import Testing
import Wire

/// Every refusal of `HopReceiver`, one by one, with the clock passed in: a value that checks and
/// opens hops can be tested without sockets or threads.
@Suite("Hop receiver")
struct HopReceiverTests {
    static let now: UInt64 = 1_800_000_000_000
    static let limits = HopReceiver.Limits(
        maxDeadlineMilliseconds: 300_000, clockAllowanceMilliseconds: 60_000, maxRemembered: 4)

    let frontKeys = BoxKeyPair.generate()
    let midKeys = BoxKeyPair.generate()
    let frontSigning = SigningKeyPair.generate()

    /// The front stage ("pre", hop 0) and the stage after it ("mid", hop 1).
    /// A certificate no gateway checks here: the receiver does not read it.
    static func certificate(_ role: String, _ key: SigningKeyPair) -> RoleCertificate {
        RoleCertificate(pipelineID: "test", role: role, epoch: 5, signingKey: key.publicKey.bytes, notAfter: 0)
    }

    var front: HopReceiver {
        HopReceiver(
            keys: StageKeys(
                role: "pre", position: 0, boxKeys: [5: frontKeys], signing: [5: frontSigning],
                certificate: Self.certificate("pre", frontSigning), upstream: nil,
                downstream: (role: "mid", boxKeys: [5: midKeys.publicKey])),
            limits: Self.limits)
    }

    var mid: HopReceiver {
        let signing = SigningKeyPair.generate()
        return HopReceiver(
            keys: StageKeys(
                role: "mid", position: 1, boxKeys: [5: midKeys], signing: [5: signing],
                certificate: Self.certificate("mid", signing),
                upstream: (role: "pre", signingKeys: [5: frontSigning.publicKey]), downstream: nil),
            limits: Self.limits)
    }

    func request(
        id: JobID = .random(), sealedID: JobID? = nil, expiresAt: UInt64 = now + 30_000,
        deadline: UInt64 = now + 30_000,
        epoch: UInt32 = 5, hop: UInt16 = 0, type: MessageType = .work
    ) throws -> [[UInt8]] {
        let envelope = JobEnvelope(
            jobID: sealedID ?? id, expiresAt: expiresAt, replyKey: BoxKeyPair.generate().publicKey.bytes,
            body: [1, 2, 3])
        let sealed = try SealedBox.seal(envelope.encoded(), to: frontKeys.publicKey)
        let header = MessageHeader(type: type, epoch: epoch, jobID: id, deadline: deadline, hop: hop)
        return PipelineMessage(header: header, body: [sealed, []]).frames
    }

    /// A bundle from "pre" to "mid", signed by `signer` for `signedHop`, arriving as `header`.
    func bundle(
        deadline: UInt64 = now + 30_000, signedHop: UInt16 = 1, arrivingHop: UInt16 = 1, signer: SigningKeyPair? = nil,
        sealedJobs: [JobID]? = nil, tableJobs: [JobID] = [JobID.random()], id: JobID = .random()
    ) throws -> [[UInt8]] {
        let table = BundleTable(entries: tableJobs.map { .init(jobID: $0, deadline: deadline) }).encoded()
        let jobs = (sealedJobs ?? tableJobs).map {
            JobEnvelope.Parts(
                jobID: $0, expiresAt: deadline, replyKey: BoxKeyPair.generate().publicKey.bytes, body: [UInt8]([9]))
        }
        let sealed = try SealedBox.seal(BundleEnvelope(jobs: jobs).encoded(), to: midKeys.publicKey)
        var header = MessageHeader(type: .workBundle, epoch: 5, jobID: id, deadline: deadline, hop: signedHop)
        let signed = try #require(
            HopSignature.bundleSignedBytes(
                from: "pre", to: "mid", receivingHop: signedHop, header: header, table: table, sealedBox: sealed))
        let signature = (signer ?? frontSigning).signature(for: signed)
        header.hop = arrivingHop
        return PipelineMessage(header: header, body: [table, sealed, signature]).frames
    }

    func refusal(_ result: Result<HopReceiver.Accepted, HopReceiver.Refusal>) -> (ErrorCode, String)? {
        if case .failure(let refusal) = result { return (refusal.code, refusal.check) }
        return nil
    }

    @Test func aWellFormedRequestAndBundleAreAcceptedOnce() throws {
        var receiver = front
        let frames = try request()
        guard case .success(let accepted) = receiver.receive(frames: frames, now: Self.now) else {
            Issue.record("refused a good request")
            return
        }
        #expect(accepted.jobs.count == 1 && accepted.jobs[0].body.copyBytes() == [1, 2, 3] && accepted.bundleID == nil)
        #expect(refusal(receiver.receive(frames: frames, now: Self.now + 1))! == (.replayed, "replay"))

        var second = mid
        let good = try bundle()
        guard case .success(let opened) = second.receive(frames: good, now: Self.now) else {
            Issue.record("refused a good bundle")
            return
        }
        #expect(opened.jobs.map { $0.body.copyBytes() } == [[9]])
        #expect(refusal(second.receive(frames: good, now: Self.now + 1))! == (.replayed, "replay"))
    }

    /// Opened plaintext goes from the opened box to the workload in secret memory only: the
    /// accepted bodies are `SecureBytes` (the type says so; this pins it), and what a workload
    /// receives from the runtime is the same.
    @Test func openedBodiesAreHandedOnInSecretMemory() throws {
        var receiver = mid
        let accepted = try receiver.receive(frames: try bundle(tableJobs: [.random(), .random()]), now: Self.now).get()
        let bodies: [SecureBytes] = accepted.jobs.map(\.body)
        #expect(bodies.map { $0.copyBytes() } == [[9], [9]])
        // Each body has its own secret memory, not a view of one shared buffer.
        #expect(bodies[0] !== bodies[1])
        let inputs: ([SecureBytes]) -> [StageOutcome] = EchoWorkload().process
        #expect(inputs(bodies) == bodies.map { .output($0) })
        #expect(String(describing: bodies[0]) == "SecureBytes(1 bytes, redacted)")
    }

    /// What a stage seals is encoded straight into secret memory; it must be the very layout of the
    /// wire's array codec, which the next stage and the client decode.
    @Test func outgoingPlaintextIsEncodedInSecretMemoryToTheWireLayout() throws {
        var receiver = front
        let accepted = try receiver.receive(frames: try request(), now: Self.now).get()
        let job = accepted.jobs[0]
        let sender = HopSender(keys: receiver.keys)
        let output = SecureBytes(copying: [7, 7, 7])
        let message = try sender.bundle(id: .random(), epoch: 5, outputs: [(job, output)])
        let opened = try SealedBox.open(message.body[1], with: midKeys).copyBytes()
        let expected = BundleEnvelope(jobs: [
            JobEnvelope.Parts(
                jobID: job.jobID, expiresAt: job.expiresAt, replyKey: job.replyKey, body: [UInt8]([7, 7, 7]))
        ])
        #expect(opened == expected.encoded())
    }

    @Test func malformedFramesAndTheWrongTypeForTheStagesPlace() throws {
        var receiver = front
        #expect(refusal(receiver.receive(frames: [[1, 2, 3]], now: Self.now))?.1 == "malformed")
        #expect(
            refusal(receiver.receive(frames: try request(type: .workBundle).dropLast(), now: Self.now))?.1
                == "malformed")
        // Only bundles past the front stage.
        var second = mid
        #expect(refusal(second.receive(frames: try request(hop: 1), now: Self.now))! == (.malformed, "malformed"))
    }

    @Test func aHopForAnotherPlaceInThePipelineIsRefused() throws {
        var receiver = front
        #expect(refusal(receiver.receive(frames: try request(hop: 3), now: Self.now))! == (.malformed, "hop"))
        var second = mid
        // Sent for hop 1 but relabelled, or signed for hop 2 and arriving as 1.
        for hop: UInt16 in [0, 2, 777, 65535] {
            #expect(
                refusal(second.receive(frames: try bundle(arrivingHop: hop), now: Self.now))! == (.malformed, "hop"))
        }
        #expect(
            refusal(second.receive(frames: try bundle(signedHop: 2, arrivingHop: 1), now: Self.now))! == (
                .badSender, "sender"
            ))
    }

    @Test func deadlinesPastOrBeyondThePipelinesLongestAreRefused() throws {
        var receiver = front
        #expect(
            refusal(receiver.receive(frames: try request(deadline: Self.now), now: Self.now))! == (
                .deadlineExceeded, "deadline"
            ))
        let tooFar = Self.now + 300_000 + 60_000 + 1
        #expect(
            refusal(receiver.receive(frames: try request(deadline: tooFar), now: Self.now))! == (.malformed, "deadline")
        )
        var second = mid
        #expect(
            refusal(second.receive(frames: try bundle(deadline: tooFar), now: Self.now))! == (.malformed, "deadline"))
    }

    @Test func theClientsSealedExpiryBoundsARequest() throws {
        var receiver = front
        #expect(
            refusal(receiver.receive(frames: try request(expiresAt: Self.now), now: Self.now))! == (
                .deadlineExceeded, "expiry"
            ))
        let tooFar = Self.now + 300_000 + 60_000 + 1
        #expect(
            refusal(receiver.receive(frames: try request(expiresAt: tooFar), now: Self.now))! == (.malformed, "expiry"))
        // A captured request resent later with a fresh clear deadline: still remembered until it
        // expires, refused by its expiry after that.
        let captured = JobID.random()
        let original = try request(id: captured, expiresAt: Self.now + 30_000)
        guard case .success = receiver.receive(frames: original, now: Self.now) else {
            Issue.record("refused a good request")
            return
        }
        var resent = original
        var header = try MessageHeader(decoding: resent[0])
        header.deadline = Self.now + 250_000
        resent[0] = header.encoded()
        #expect(refusal(receiver.receive(frames: resent, now: Self.now + 20_000))! == (.replayed, "replay"))
        #expect(refusal(receiver.receive(frames: resent, now: Self.now + 40_000))! == (.deadlineExceeded, "expiry"))
    }

    @Test func aRequestWhoseSealedJobIDDiffersFromItsHeaderIsRefused() throws {
        var receiver = front
        #expect(
            refusal(receiver.receive(frames: try request(sealedID: .random()), now: Self.now))! == (
                .malformed, "binding"
            ))
    }

    @Test func aBundleNotSignedByTheUpstreamRoleIsRefused() throws {
        var second = mid
        #expect(
            refusal(second.receive(frames: try bundle(signer: .generate()), now: Self.now))! == (.badSender, "sender"))
        var frames = try bundle()
        frames[3] = Array(repeating: 0, count: 64)
        #expect(refusal(second.receive(frames: frames, now: Self.now))! == (.badSender, "sender"))
    }

    @Test func aBundleWhoseSealedJobsDifferFromItsTableIsRefused() throws {
        var second = mid
        let frames = try bundle(sealedJobs: [.random()], tableJobs: [.random()])
        #expect(refusal(second.receive(frames: frames, now: Self.now))! == (.malformed, "binding"))
    }

    @Test func anEpochWithoutAKeyAndABoxThatDoesNotOpenAreRefused() throws {
        var receiver = front
        #expect(refusal(receiver.receive(frames: try request(epoch: 6), now: Self.now))! == (.unknownEpoch, "epoch"))
        var tampered = try request()
        tampered[1][tampered[1].count - 1] ^= 1
        #expect(refusal(receiver.receive(frames: tampered, now: Self.now))! == (.couldNotOpen, "open"))
        // Sealed to the right key, but not an envelope inside.
        let id = JobID.random()
        let garbage = try SealedBox.seal([7, 7, 7], to: frontKeys.publicKey)
        let header = MessageHeader(type: .work, epoch: 5, jobID: id, deadline: Self.now + 1000, hop: 0)
        #expect(
            refusal(receiver.receive(frames: [header.encoded(), garbage, []], now: Self.now))! == (
                .malformed, "envelope"
            ))
    }

    @Test func whenItCanRememberNoMoreItRefusesAsBusyRatherThanForget() throws {
        var receiver = front
        for _ in 0..<Self.limits.maxRemembered {
            guard case .success = receiver.receive(frames: try request(), now: Self.now) else {
                Issue.record("refused a good request")
                return
            }
        }
        #expect(receiver.rememberedCount == 4)
        #expect(refusal(receiver.receive(frames: try request(), now: Self.now))! == (.busy, "replay-capacity"))
        // Once those requests expire they are forgotten, and there is room again.
        guard
            case .success = receiver.receive(
                frames: try request(expiresAt: Self.now + 90_000, deadline: Self.now + 90_000), now: Self.now + 60_000)
        else {
            Issue.record("still full after every remembered request expired")
            return
        }
        #expect(receiver.rememberedCount == 1)
    }
}
