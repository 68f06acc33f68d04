import Foundation
import Gateway
import Logging
import Node
import SealpipeClient
import Sodium
import StageRuntime
import Testing
import Topology
import Trust
import Wire
import Workloads
import ZeroMQ

/// A whole pipeline in one process: a gateway and echo stages on loopback TCP, with keys made
/// here as the key broker would release them, and the real client.
@Suite("In-process pipeline", .timeLimit(.minutes(1)))
struct InProcessPipelineTests {
    static let roles = ["pre", "mid", "post"]
    static let pipelineID = "in-process"
    /// Plays the key broker's identity: it certifies each role's signing key.
    static let broker = SigningKeyPair.generate()

    static func certificate(role: String, key: SigningKeyPair, epoch: UInt32 = 1) -> RoleCertificate {
        RoleCertificate(
            pipelineID: pipelineID, role: role, epoch: epoch, signingKey: key.publicKey.bytes,
            notAfter: UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        ).signed(with: broker)
    }

    static var gatewayConfiguration: GatewayConfiguration {
        GatewayConfiguration(
            roles: roles,
            replicaTrust: try! ReplicaTrust(brokerIdentityKey: broker.publicKey.bytes, pipelineID: pipelineID),
            replicaTimeout: .seconds(2))
    }

    final class Harness: @unchecked Sendable {
        // @unchecked Sendable: set up before any thread starts, then only read.
        let gateway: GatewayService
        var stages: [StageRuntime] = []
        var front = ""
        var backend = ""
        let boxKeys: [String: BoxKeyPair]
        let signingKeys: [String: SigningKeyPair]
        private var threads: [DispatchSemaphore] = []

        init(replicas: Int = 1, capacity: Int = 16, workloads: [String: any StageWorkload] = [:]) throws {
            var box: [String: BoxKeyPair] = [:]
            var signing: [String: SigningKeyPair] = [:]
            for role in InProcessPipelineTests.roles {
                box[role] = .generate()
                signing[role] = .generate()
            }
            boxKeys = box
            signingKeys = signing
            gateway = GatewayService(
                configuration: InProcessPipelineTests.gatewayConfiguration,
                frontEndpoint: "tcp://127.0.0.1:*", backendEndpoint: "tcp://127.0.0.1:*",
                logger: Logger(label: "test.gateway"))
            let bound = DispatchSemaphore(value: 0)
            let endpoints = Mutex2<(String, String)>(("", ""))
            spawn { [gateway] in
                try? gateway.run { front, backend in
                    endpoints.set((front, backend))
                    bound.signal()
                }
            }
            #expect(bound.wait(timeout: .now() + 10) == .success)
            (front, backend) = endpoints.get()
            for (index, role) in InProcessPipelineTests.roles.enumerated() {
                for replica in 0..<replicas {
                    let stage = StageRuntime(
                        keys: keys(for: role, index: index), workload: workloads[role] ?? EchoWorkload(),
                        settings: .init(
                            replica: replica, gatewayEndpoint: backend, maxBatch: 8, maxDelay: .milliseconds(1),
                            capacity: capacity,
                            heartbeatInterval: .milliseconds(100), maxDeadline: .seconds(300)),
                        logger: Logger(label: "test.\(role)"))
                    stages.append(stage)
                    spawn { try? stage.serve() }
                }
            }
        }

        func keys(for role: String, index: Int) -> StageKeys {
            let roles = InProcessPipelineTests.roles
            let upstream = index > 0 ? (roles[index - 1], signingKeys[roles[index - 1]]!.publicKey) : nil
            let downstream = index < roles.count - 1 ? (roles[index + 1], boxKeys[roles[index + 1]]!.publicKey) : nil
            return StageKeys(
                role: role, position: UInt16(index), boxKeys: [1: boxKeys[role]!], signing: [1: signingKeys[role]!],
                certificate: InProcessPipelineTests.certificate(role: role, key: signingKeys[role]!),
                upstream: upstream.map { (role: $0.0, signingKeys: [1: $0.1]) },
                downstream: downstream.map { (role: $0.0, boxKeys: [1: $0.1]) },
                receiptContext: .init(
                    pipelineID: InProcessPipelineTests.pipelineID, releaseIndex: UInt64(10 + index),
                    shardDigest: role == "mid" ? [UInt8](repeating: 0x3C, count: 32) : []))
        }

        var target: PipelineTarget {
            PipelineTarget(
                frontEndpoint: front, frontKey: boxKeys["pre"]!.publicKey, epoch: 1,
                resultSigner: (role: "post", key: signingKeys["post"]!.publicKey),
                pipelineID: InProcessPipelineTests.pipelineID)
        }

        private func spawn(_ body: @escaping @Sendable () -> Void) {
            let done = DispatchSemaphore(value: 0)
            threads.append(done)
            Thread {
                body()
                done.signal()
            }.start()
        }

        func shutDown() {
            gateway.drain()
            for stage in stages { stage.drain() }
            for done in threads { _ = done.wait(timeout: .now() + 5) }
        }
    }

    @Test func jobsTravelTheSealedPipelineAndComeBackIntact() throws {
        let harness = try Harness()
        defer { harness.shutDown() }
        let client = try PipelineClient(target: harness.target)
        let bodies = (0..<50).map { Array("job number \($0) ✓".utf8) }
        let answers = try client.submit(bodies, timeout: .seconds(20))
        #expect(answers.count == 50)
        for (answer, body) in zip(answers, bodies) {
            #expect((try? answer.get()) == body, "\(answer)")
        }
        // The gateway counts a result after it has sent it: on a loaded machine the client can
        // hold all 50 before the last count lands.
        var counters = harness.gateway.snapshot.counters
        for _ in 0..<100 where counters.results < 50 || harness.stages.map({ $0.snapshot.processed }) != [50, 50, 50] {
            Thread.sleep(forTimeInterval: 0.02)
            counters = harness.gateway.snapshot.counters
        }
        #expect(counters.accepted == 50)
        #expect(counters.results == 50)
        #expect(harness.stages.map { $0.snapshot.processed } == [50, 50, 50])
    }

    /// A job that asks for receipts gets one from every stage, in order, each signed by its
    /// stage's key, naming its release and shard, with digests that chain from the request to
    /// the result; a job that does not ask gets none, and its result is unchanged.
    @Test func jobsThatAskGetAReceiptFromEveryStage() throws {
        let harness = try Harness()
        defer { harness.shutDown() }
        let client = try PipelineClient(target: harness.target)
        let bodies = (0..<20).map { Array("receipted job \($0)".utf8) }
        let answers = try client.submitJobs(bodies, timeout: .seconds(20), receipts: true)
        for (answer, body) in zip(answers, bodies) {
            let output = try answer.get()
            #expect(output.body == body)
            let file = try #require(output.receipts)
            let (jobID, receipts) = try file.decoded()
            #expect(receipts.map(\.role) == InProcessPipelineTests.roles)
            #expect(receipts.map(\.releaseIndex) == [10, 11, 12])
            #expect(receipts.map(\.shardDigest.count) == [0, 32, 0])
            #expect(receipts.allSatisfy { $0.epoch == 1 })
            for (receipt, next) in zip(receipts, receipts.dropFirst()) {
                #expect(receipt.outputDigest == next.inputDigest)
            }
            #expect(Hex.encode(receipts[0].inputDigest) == file.requestDigest)
            #expect(Hex.encode(receipts[2].outputDigest) == file.resultDigest)
            for receipt in receipts {
                let key = harness.signingKeys[receipt.role]!.publicKey
                #expect(
                    key.isValidSignature(
                        receipt.signature,
                        for: receipt.signedBytes(pipelineID: InProcessPipelineTests.pipelineID, jobID: jobID)))
            }
        }
        let plain = try client.submitJobs([Array("no receipts".utf8)], timeout: .seconds(20))
        #expect(try plain[0].get().receipts == nil)
    }

    @Test func jobsRefusedForAStaleEpochAreResentUnderAFreshTarget() throws {
        let harness = try Harness()
        defer { harness.shutDown() }
        // A client whose manifest is from an epoch the front stage no longer holds.
        var stale = harness.target
        stale.epoch = 7
        stale.frontKey = BoxKeyPair.generate().publicKey
        let client = try PipelineClient(target: stale)
        let refreshed = Mutex2(0)
        let bodies = (0..<5).map { Array("job \($0)".utf8) }
        let answers = try client.submit(bodies, timeout: .seconds(10)) {
            refreshed.set(refreshed.get() + 1)
            return harness.target
        }
        #expect(answers.map { try? $0.get() } == bodies)
        #expect(refreshed.get() == 1)
        #expect(client.target.epoch == 1)
        // Without a way to refresh, the same refusal is the answer.
        let strict = try PipelineClient(target: stale)
        let refused = try strict.submit([[1]], timeout: .seconds(10))
        let code: ErrorCode? = refused.first.flatMap { if case .failure(let error) = $0 { error.code } else { nil } }
        #expect(code == .unknownEpoch)
    }

    @Test func aRequestSealedToTheWrongKeyEndsWithCouldNotOpen() throws {
        let harness = try Harness()
        defer { harness.shutDown() }
        var wrong = harness.target
        wrong.frontKey = BoxKeyPair.generate().publicKey
        let client = try PipelineClient(target: wrong)
        let answers = try client.submit([[1, 2, 3]], timeout: .seconds(10))
        let code: ErrorCode? = answers.first.flatMap { if case .failure(let error) = $0 { error.code } else { nil } }
        #expect(code == .couldNotOpen)
        #expect(harness.stages[0].snapshot.rejected["open"] == 1)
    }

    @Test func aResultSignedByAnotherKeyIsRefusedByTheClient() throws {
        let harness = try Harness()
        defer { harness.shutDown() }
        var target = harness.target
        target.resultSigner = (role: "post", key: SigningKeyPair.generate().publicKey)
        let client = try PipelineClient(target: target)
        let answers = try client.submit([[4, 5]], timeout: .seconds(10))
        let error: ClientError? = answers.first.flatMap { if case .failure(let error) = $0 { error } else { nil } }
        #expect(error == .badResultSignature)
    }

    /// Fails every input whose first byte is 0, and says why in words that quote the input, as a
    /// model's error about a token id would.
    struct QuotingWorkload: StageWorkload {
        func process(_ inputs: [SecureBytes]) -> [StageOutcome] {
            inputs.map { input in
                input.withUnsafeBytes { bytes in
                    bytes.first == 0
                        ? .failure("cannot use \(String(decoding: bytes.dropFirst(), as: UTF8.self))") : .output(input)
                }
            }
        }
    }

    @Test func aStagesDetailAboutAnInputReachesOnlyItsClientSealed() throws {
        let harness = try Harness(workloads: ["mid": QuotingWorkload()])
        defer { harness.shutDown() }
        let secret = "token id 31337 at position 4 of a secret sentence"
        // As a client does it, on a raw socket, to see every frame that comes back.
        let context = try ZMQContext()
        let socket = try context.socket(.dealer)
        try socket.connect(harness.front)
        let id = JobID.random()
        let reply = BoxKeyPair.generate()
        let expiresAt = UInt64(Date().timeIntervalSince1970 * 1000) + 10_000
        let envelope = JobEnvelope(
            jobID: id, expiresAt: expiresAt, replyKey: reply.publicKey.bytes, body: [0] + Array(secret.utf8))
        let sealed = try SealedBox.seal(envelope.encoded(), to: harness.boxKeys["pre"]!.publicKey)
        try socket.send([MessageHeader(type: .submit, epoch: 1, jobID: id, deadline: 10_000).encoded(), sealed])
        let frames = try #require(try socket.receive(timeout: .seconds(10)))
        let message = try PipelineMessage(frames: frames)
        #expect(message.header.type == .error && message.header.code == ErrorCode.stageFailed.rawValue)
        // In clear (what the gateway and the network see): the code and its standard message.
        let clear = String(decoding: message.body[0], as: UTF8.self)
        #expect(clear == "mid refused the job: \(ErrorCode.stageFailed.defaultMessage)")
        #expect(!frames.contains { String(decoding: $0, as: UTF8.self).contains("31337") })
        // Sealed to the job's reply key: the detail, for this client alone.
        let detail = try SealedBox.open(message.body[1], with: reply)
        #expect(detail.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } == "cannot use \(secret)")
        #expect((try? SealedBox.open(message.body[1], with: BoxKeyPair.generate())) == nil)
        // The client library shows it.
        let client = try PipelineClient(target: harness.target)
        let answers = try client.submit([[0] + Array("word".utf8), [1, 2]], timeout: .seconds(10))
        #expect(answers.first.map { "\($0)" }?.contains("(detail: cannot use word)") == true)
        // Its batch-mates are unaffected.
        #expect((try? answers.last?.get()) == [1, 2])
    }

    @Test func aBundleInjectedWithoutTheUpstreamSigningKeyIsDroppedAndCounted() throws {
        // The injector plays a gateway: it knows the stage's public key but holds no signing key.
        let context = try ZMQContext()
        let fakeGateway = try context.socket(.router)
        let endpoint = try fakeGateway.bind("tcp://127.0.0.1:*")
        let midKeys = BoxKeyPair.generate()
        let preSigning = SigningKeyPair.generate()
        let midSigning = SigningKeyPair.generate()
        let stage = StageRuntime(
            keys: StageKeys(
                role: "mid", position: 1, boxKeys: [1: midKeys], signing: [1: midSigning],
                certificate: Self.certificate(role: "mid", key: midSigning),
                upstream: (role: "pre", signingKeys: [1: preSigning.publicKey]),
                downstream: (role: "post", boxKeys: [1: BoxKeyPair.generate().publicKey])),
            workload: EchoWorkload(),
            settings: .init(
                replica: 0, gatewayEndpoint: endpoint, maxBatch: 4, maxDelay: .milliseconds(1), capacity: 8,
                heartbeatInterval: .milliseconds(100), maxDeadline: .seconds(300)),
            logger: Logger(label: "test.mid"))
        let done = DispatchSemaphore(value: 0)
        Thread {
            try? stage.serve()
            done.signal()
        }.start()
        defer {
            stage.drain()
            _ = done.wait(timeout: .now() + 5)
        }
        let ready = try #require(try fakeGateway.receive(timeout: .seconds(5)))
        let identity = ready[0]

        let id = JobID.random()
        let deadline = UInt64(Date().timeIntervalSince1970 * 1000) + 10_000
        let table = BundleTable(entries: [.init(jobID: id, deadline: deadline)]).encoded()
        let envelope = BundleEnvelope(jobs: [
            JobEnvelope.Parts(
                jobID: id, expiresAt: deadline, replyKey: BoxKeyPair.generate().publicKey.bytes,
                body: [UInt8]([1, 2, 3]))
        ])
        let sealed = try SealedBox.seal(envelope.encoded(), to: midKeys.publicKey)
        let header = MessageHeader(type: .workBundle, epoch: 1, jobID: .random(), deadline: deadline, hop: 1)
        func signedBytes(_ header: MessageHeader, _ table: [UInt8], _ sealed: [UInt8]) -> [UInt8] {
            HopSignature.bundleSignedBytes(
                from: "pre", to: "mid", receivingHop: 1, header: header, table: table, sealedBox: sealed)!
        }
        /// Reads replies until `count` forwards or rejects came back; returns them in order.
        func replies(_ count: Int) throws -> [PipelineMessage] {
            var messages: [PipelineMessage] = []
            while messages.count < count, let frames = try fakeGateway.receive(timeout: .seconds(5)) {
                guard let message = try? PipelineMessage(frames: Array(frames.dropFirst())) else { continue }
                if [.forwardBundle, .reject].contains(message.header.type) { messages.append(message) }
            }
            return messages
        }

        let forger = SigningKeyPair.generate()
        for signature in [
            forger.signature(for: signedBytes(header, table, sealed)), [], Array(repeating: 0, count: 64),
        ] {
            try fakeGateway.send([identity, header.encoded(), table, sealed, signature])
        }
        let refusals = try replies(3)
        #expect(refusals.map(\.header.code) == Array(repeating: ErrorCode.badSender.rawValue, count: 3))
        #expect(stage.snapshot.rejected["sender"] == 3)
        #expect(stage.snapshot.processed == 0)

        // A client-style unsigned single hop is refused too: past the front stage, only bundles.
        let single = MessageHeader(type: .work, epoch: 1, jobID: id, deadline: deadline, hop: 1)
        try fakeGateway.send([identity, single.encoded(), sealed, []])
        #expect(try replies(1).first?.header.code == ErrorCode.malformed.rawValue)

        // Signed by the real upstream key but with a job table that does not match the sealed jobs.
        let otherTable = BundleTable(entries: [.init(jobID: .random(), deadline: deadline)]).encoded()
        try fakeGateway.send([
            identity, header.encoded(), otherTable, sealed,
            preSigning.signature(for: signedBytes(header, otherTable, sealed)),
        ])
        #expect(try replies(1).first?.header.code == ErrorCode.malformed.rawValue)
        #expect(stage.snapshot.rejected["binding"] == 1)

        // Signed by the real upstream key, but the ciphertext past the signed key and tag was
        // changed on the way: the tag no longer verifies, so the box does not open.
        var tampered = sealed
        tampered[tampered.count - 1] ^= 1
        try fakeGateway.send([
            identity, header.encoded(), table, tampered,
            preSigning.signature(for: signedBytes(header, table, tampered)),
        ])
        #expect(try replies(1).first?.header.code == ErrorCode.couldNotOpen.rawValue)
        #expect(stage.snapshot.rejected["open"] == 1)
        // Too short to be a sealed box at all.
        try fakeGateway.send([
            identity, header.encoded(), table, Array(sealed.prefix(40)), preSigning.signature(for: [1]),
        ])
        #expect(try replies(1).first?.header.code == ErrorCode.couldNotOpen.rawValue)
        #expect(stage.snapshot.rejected["open"] == 2)

        // The same bundle signed by the real upstream key is accepted and forwarded; replayed, refused.
        let genuine = preSigning.signature(for: signedBytes(header, table, sealed))
        try fakeGateway.send([identity, header.encoded(), table, sealed, genuine])
        try fakeGateway.send([identity, header.encoded(), table, sealed, genuine])
        let answers = try replies(2)
        #expect(answers.map(\.header.type).sorted { $0.rawValue < $1.rawValue } == [.reject, .forwardBundle])
        #expect(stage.snapshot.rejected["replay"] == 1)
        let forwarded = try #require(answers.first { $0.header.type == .forwardBundle })
        #expect(try BundleTable(decoding: forwarded.body[0]).entries.map(\.jobID) == [id])

        // Relabelled copies of the accepted bundle. Another hop number: refused (the signature
        // covers the hop it was sent to, and the stage takes only its own); the same hop with a
        // later deadline: the signature no longer verifies. Neither is computed again.
        for hop: UInt16 in [0, 2, 3, 777, 4242, 65535] {
            var relabelled = header
            relabelled.hop = hop
            try fakeGateway.send([identity, relabelled.encoded(), table, sealed, genuine])
        }
        #expect(try replies(6).map(\.header.code) == Array(repeating: ErrorCode.malformed.rawValue, count: 6))
        #expect(stage.snapshot.rejected["hop"] == 6)
        var later = header
        later.deadline += 60_000
        try fakeGateway.send([identity, later.encoded(), table, sealed, genuine])
        #expect(try replies(1).first?.header.code == ErrorCode.badSender.rawValue)
        // Re-signed by the real upstream key for a deadline past the pipeline's longest: refused.
        var far = header
        far.deadline += 3_600_000
        try fakeGateway.send([
            identity, far.encoded(), table, sealed, preSigning.signature(for: signedBytes(far, table, sealed)),
        ])
        #expect(try replies(1).first?.header.code == ErrorCode.malformed.rawValue)
        #expect(stage.snapshot.rejected["deadline"] == 1)
        #expect(stage.snapshot.processed == 1)
    }
}

/// A value shared between a test and one thread it starts.
final class Mutex2<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: guarded by `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
}
