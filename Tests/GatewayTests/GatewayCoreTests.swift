import Gateway
import Testing
import Wire

@Suite("Gateway state machine")
struct GatewayCoreTests {
    static let roles = ["preprocessor", "shard-0", "postprocessor"]
    let client: [UInt8] = Array("client-1".utf8)

    func makeCore(maxInFlight: Int = 8, maxPayload: Int = 1024) -> GatewayCore {
        GatewayCore(
            configuration: GatewayConfiguration(
                roles: Self.roles, maxInFlight: maxInFlight, maxPayloadBytes: maxPayload, defaultDeadline: .seconds(10),
                maxDeadline: .seconds(60), replicaTimeout: .seconds(2), maxAttempts: 3))
    }

    func announce(_ core: inout GatewayCore, role: String, replica: UInt16, capacity: UInt32 = 4, epochs: [UInt32] = [1], now: UInt64 = 0)
        -> ([UInt8], [GatewayAction])
    {
        let identity = Array("\(role)#\(replica)".utf8)
        let body = ReplicaAnnouncement(role: role, replica: replica, instance: 1, capacity: capacity, epochs: epochs).encoded()
        let header = MessageHeader(type: .ready, jobID: JobID(bytes: Array(repeating: 0, count: 16))!)
        return (identity, core.replicaMessage(identity: identity, frames: [header.encoded(), body], now: now))
    }

    func submit(_ core: inout GatewayCore, id: JobID, epoch: UInt32 = 1, payload: [UInt8] = [1, 2, 3], timeout: UInt64 = 0, now: UInt64 = 0)
        -> [GatewayAction]
    {
        let header = MessageHeader(type: .submit, epoch: epoch, jobID: id, deadline: timeout)
        return core.clientMessage(identity: client, frames: [header.encoded(), payload], now: now)
    }

    func forward(_ core: inout GatewayCore, from identity: [UInt8], work frames: [[UInt8]], output: [UInt8], now: UInt64 = 1) -> [GatewayAction] {
        var header = try! MessageHeader(decoding: frames[0])
        header.type = .forward
        return core.replicaMessage(identity: identity, frames: [header.encoded(), output, Array(repeating: 7, count: 64)], now: now)
    }

    func clientError(_ actions: [GatewayAction]) throws -> (ErrorCode, String) {
        #expect(actions.count == 1)
        guard case .toClient(_, let frames) = try #require(actions.first) else { throw GatewayTestFailure.notToClient }
        let message = try PipelineMessage(frames: frames)
        #expect(message.header.type == .error)
        return (try #require(ErrorCode(rawValue: message.header.code)), String(decoding: message.body[0], as: UTF8.self))
    }

    @Test func aJobTravelsEveryRoleAndEndsWithOneResult() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0)
        let (shard, _) = announce(&core, role: "shard-0", replica: 0)
        let (post, _) = announce(&core, role: "postprocessor", replica: 0)
        let id = JobID.random()

        let first = submit(&core, id: id, timeout: 5000, now: 1000)
        guard case .toReplica(pre, let work0) = try #require(first.first) else { Issue.record("not sent to the preprocessor"); return }
        let hop0 = try PipelineMessage(frames: work0)
        #expect(hop0.header.type == .work)
        #expect(hop0.header.deadline == 6000)
        #expect(hop0.body == [[1, 2, 3], []])

        let second = forward(&core, from: pre, work: work0, output: [4, 4])
        guard case .toReplica(shard, let work1) = try #require(second.first) else { Issue.record("not sent to shard-0"); return }
        #expect(try PipelineMessage(frames: work1).header.hop == 1)
        #expect(try PipelineMessage(frames: work1).body[0] == [4, 4])

        let third = forward(&core, from: shard, work: work1, output: [5])
        guard case .toReplica(post, let work2) = try #require(third.first) else { Issue.record("not sent to the postprocessor"); return }

        let last = forward(&core, from: post, work: work2, output: [6])
        guard case .toClient(let to, let resultFrames) = try #require(last.first) else { Issue.record("no result"); return }
        #expect(to == client)
        let result = try PipelineMessage(frames: resultFrames)
        #expect(result.header.type == .result)
        #expect(result.header.jobID == id)
        #expect(result.body[0] == [6])
        #expect(core.jobsInFlight == 0)
        #expect(core.counters.results == 1)
        // A duplicate forward after the end is dropped, not a second result.
        #expect(forward(&core, from: post, work: work2, output: [6]).isEmpty)
        #expect(core.counters.droppedFromReplicas["unexpected_forward"] == 1)
    }

    @Test func jobsWaitForAReplicaAndRespectCapacity() throws {
        var core = makeCore()
        let ids = (0..<3).map { _ in JobID.random() }
        for id in ids { #expect(submit(&core, id: id).isEmpty) }
        #expect(core.queueDepths["preprocessor"] == 3)
        let (_, dispatched) = announce(&core, role: "preprocessor", replica: 0, capacity: 2)
        #expect(dispatched.count == 2)
        #expect(core.queueDepths["preprocessor"] == 1)
        let (_, more) = announce(&core, role: "preprocessor", replica: 1, capacity: 2)
        #expect(more.count == 1)
        #expect(core.queueDepths["preprocessor"] == 0)
    }

    @Test func loadGoesToTheLeastLoadedReplica() throws {
        var core = makeCore()
        let (a, _) = announce(&core, role: "preprocessor", replica: 0, capacity: 10)
        let (b, _) = announce(&core, role: "preprocessor", replica: 1, capacity: 10)
        var counts: [[UInt8]: Int] = [:]
        for _ in 0..<8 {
            for action in submit(&core, id: .random()) {
                if case .toReplica(let identity, _) = action { counts[identity, default: 0] += 1 }
            }
        }
        #expect(counts[a] == 4)
        #expect(counts[b] == 4)
    }

    @Test func aDeadReplicasHopsAreRetriedAndItsLateOutputIsIgnored() throws {
        var core = makeCore()
        let (first, _) = announce(&core, role: "preprocessor", replica: 0, now: 0)
        let id = JobID.random()
        let sent = submit(&core, id: id, timeout: 60_000, now: 0)
        guard case .toReplica(first, let work) = try #require(sent.first) else { Issue.record("not dispatched"); return }
        let (second, _) = announce(&core, role: "preprocessor", replica: 1, now: 1500)
        // The first replica falls silent; the second keeps beating.
        _ = announce(&core, role: "preprocessor", replica: 1, now: 2500)
        let retried = core.tick(now: 3000)
        #expect(core.counters.replicasLost == 1)
        #expect(core.counters.retries == 1)
        guard case .toReplica(second, let again) = try #require(retried.first) else { Issue.record("not retried"); return }
        #expect(again == work)  // the very same sealed hop
        // The dead replica's late output is dropped; the live one's moves the job on.
        #expect(forward(&core, from: first, work: work, output: [9]).isEmpty)
        #expect(core.jobsInFlight == 1)
    }

    @Test func aJobWhoseReplicasKeepDyingEndsWithAnError() throws {
        var core = makeCore()
        let id = JobID.random()
        _ = submit(&core, id: id, timeout: 60_000, now: 0)
        var ended: (ErrorCode, String)?
        for round in 0..<4 {
            let now = UInt64(round) * 10_000
            _ = announce(&core, role: "preprocessor", replica: UInt16(round), now: now)
            let actions = core.tick(now: now + 5000)
            if case .toClient = actions.first { ended = try clientError(actions) }
        }
        #expect(ended?.0 == .stageFailed)
        #expect(core.jobsInFlight == 0)
    }

    @Test func overdueJobsEndWithDeadlineExceeded() throws {
        var core = makeCore()
        let id = JobID.random()
        _ = submit(&core, id: id, timeout: 100, now: 1000)
        #expect(core.tick(now: 1099).isEmpty)
        let (code, _) = try clientError(core.tick(now: 1100))
        #expect(code == .deadlineExceeded)
        #expect(core.tick(now: 5000).isEmpty)
        #expect(core.queueDepths["preprocessor"] == 0)
    }

    @Test func badRequestsGetClearErrorsAndTheGatewayKeepsServing() throws {
        var core = makeCore(maxInFlight: 2, maxPayload: 16)
        _ = announce(&core, role: "preprocessor", replica: 0, epochs: [5])
        let id = JobID.random()

        #expect(try clientError(core.clientMessage(identity: client, frames: [[1, 2, 3]], now: 0)).0 == .malformed)
        #expect(try clientError(core.clientMessage(identity: client, frames: [], now: 0)).0 == .malformed)
        var badVersion = MessageHeader(type: .submit, jobID: id).encoded()
        badVersion[0] = 2
        #expect(try clientError(core.clientMessage(identity: client, frames: [badVersion, [1]], now: 0)).0 == .unsupportedVersion)
        let result = MessageHeader(type: .result, jobID: id).encoded()
        #expect(try clientError(core.clientMessage(identity: client, frames: [result, [1], [2]], now: 0)).0 == .malformed)
        #expect(try clientError(submit(&core, id: id, epoch: 5, payload: Array(repeating: 0, count: 17))).0 == .tooLarge)
        #expect(try clientError(submit(&core, id: id, epoch: 5, payload: [])).0 == .malformed)
        let (epochCode, epochText) = try clientError(submit(&core, id: id, epoch: 4))
        #expect(epochCode == .unknownEpoch)
        #expect(epochText.contains("epoch 4"))

        #expect(!submit(&core, id: id, epoch: 5).isEmpty)
        #expect(try clientError(submit(&core, id: id, epoch: 5)).0 == .duplicateJob)
        _ = submit(&core, id: .random(), epoch: 5)
        #expect(try clientError(submit(&core, id: .random(), epoch: 5)).0 == .busy)
        core.beginDraining()
        #expect(try clientError(submit(&core, id: .random(), epoch: 5)).0 == .shuttingDown)
        #expect(!core.isDrained)
        #expect(core.counters.requests == 12)
        #expect(core.counters.accepted == 2)
        #expect(core.counters.totalErrors == 10)
    }

    @Test func aStageRejectionEndsTheJobWithItsCode() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0)
        let id = JobID.random()
        _ = submit(&core, id: id)
        let header = MessageHeader(type: .reject, code: ErrorCode.couldNotOpen.rawValue, jobID: id)
        let actions = core.replicaMessage(identity: pre, frames: [header.encoded(), Array("sealed to another key".utf8)], now: 1)
        let (code, text) = try clientError(actions)
        #expect(code == .couldNotOpen)
        #expect(text.contains("preprocessor refused the job"))
        #expect(core.jobsInFlight == 0)
    }

    @Test func forgedOrGarbageReplicaMessagesAreDroppedAndCounted() throws {
        var core = makeCore()
        _ = announce(&core, role: "preprocessor", replica: 0)
        let id = JobID.random()
        _ = submit(&core, id: id)
        // A party that is not holding the job tries to move it on.
        let forged = MessageHeader(type: .forward, jobID: id)
        #expect(core.replicaMessage(identity: Array("intruder".utf8), frames: [forged.encoded(), [1], [2]], now: 1).isEmpty)
        #expect(core.replicaMessage(identity: Array("intruder".utf8), frames: [[0xde, 0xad]], now: 1).isEmpty)
        let (_, unknownRole) = announce(&core, role: "mallory", replica: 0)
        #expect(unknownRole.isEmpty)
        #expect(core.counters.droppedFromReplicas == ["unexpected_forward": 1, "malformed": 1, "unknown_role": 1])
        #expect(core.jobsInFlight == 1)
    }
}

enum GatewayTestFailure: Error { case notToClient }
