import Gateway
import Testing
import Wire

@Suite("Gateway state machine")
struct GatewayCoreTests {
    static let roles = ["preprocessor", "shard-0", "postprocessor"]
    let client: [UInt8] = Array("client-1".utf8)
    let credentials = ReplicaCredentials()

    /// One client may use all of `maxInFlight` here: the shares are `GatewayShareTests`' subject.
    func makeCore(maxInFlight: Int = 8, maxPayload: Int = 1024) -> GatewayCore {
        GatewayCore(
            configuration: GatewayConfiguration(
                roles: Self.roles, replicaTrust: credentials.trust(), maxInFlight: maxInFlight,
                maxInFlightPerClient: maxInFlight,
                maxPayloadBytes: maxPayload, defaultDeadline: .seconds(10),
                maxDeadline: .seconds(60), replicaTimeout: .seconds(2), maxAttempts: 3))
    }

    func announce(
        _ core: inout GatewayCore, role: String, replica: UInt16, capacity: UInt32 = 4, epochs: [UInt32] = [1],
        now: UInt64 = 0
    )
        -> ([UInt8], [GatewayAction])
    {
        let identity = Array("\(role)#\(replica)".utf8)
        let announcement = credentials.announcement(
            role: role, replica: replica, capacity: capacity, epochs: epochs, routingID: identity, now: now)
        let frames = ReplicaCredentials.frames(announcement)
        return (identity, core.replicaMessage(identity: identity, frames: frames, now: now))
    }

    func submit(
        _ core: inout GatewayCore, id: JobID, epoch: UInt32 = 1, payload: [UInt8] = [1, 2, 3], timeout: UInt64 = 0,
        now: UInt64 = 0
    )
        -> [GatewayAction]
    {
        let header = MessageHeader(type: .submit, epoch: epoch, jobID: id, deadline: timeout)
        return core.clientMessage(identity: client, frames: [header.encoded(), payload], peerAddress: nil, now: now)
    }

    /// A stage's bundle of `jobs` for the next role (the gateway never opens or checks the
    /// sealed part, so any bytes stand in for it).
    func bundle(
        _ core: inout GatewayCore, from identity: [UInt8], jobs: [JobID], id: JobID = .random(),
        sealed: [UInt8] = [4, 4],
        now: UInt64 = 1
    ) -> [GatewayAction] {
        let table = BundleTable(entries: jobs.map { .init(jobID: $0, deadline: 60_000) })
        let header = MessageHeader(type: .forwardBundle, epoch: 1, jobID: id, deadline: table.latestDeadline)
        return core.replicaMessage(
            identity: identity, frames: [header.encoded(), table.encoded(), sealed, Array(repeating: 7, count: 64)],
            now: now)
    }

    /// The last stage's result for one job.
    func result(_ core: inout GatewayCore, from identity: [UInt8], job: JobID, output: [UInt8] = [6], now: UInt64 = 1)
        -> [GatewayAction]
    {
        let header = MessageHeader(type: .forward, epoch: 1, jobID: job, deadline: 60_000)
        return core.replicaMessage(
            identity: identity, frames: [header.encoded(), output, Array(repeating: 7, count: 64)], now: now)
    }

    /// The replicas and messages of `actions` sent to replicas.
    func sent(_ actions: [GatewayAction]) -> [(identity: [UInt8], message: PipelineMessage)] {
        actions.compactMap {
            guard case .toReplica(let identity, let frames) = $0 else { return nil }
            return (identity, try! PipelineMessage(frames: frames))
        }
    }

    /// Client-bound messages of `actions`, by job.
    func toClients(_ actions: [GatewayAction]) -> [JobID: PipelineMessage] {
        var messages: [JobID: PipelineMessage] = [:]
        for action in actions {
            guard case .toClient(_, let frames) = action, let message = try? PipelineMessage(frames: frames) else {
                continue
            }
            messages[message.header.jobID] = message
        }
        return messages
    }

    func clientError(_ actions: [GatewayAction]) throws -> (ErrorCode, String) {
        #expect(actions.count == 1)
        guard case .toClient(_, let frames) = try #require(actions.first) else { throw GatewayTestFailure.notToClient }
        let message = try PipelineMessage(frames: frames)
        #expect(message.header.type == .error)
        return (
            try #require(ErrorCode(rawValue: message.header.code)), String(decoding: message.body[0], as: UTF8.self)
        )
    }

    @Test func aJobTravelsEveryRoleAndEndsWithOneResult() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0)
        let (shard, _) = announce(&core, role: "shard-0", replica: 0)
        let (post, _) = announce(&core, role: "postprocessor", replica: 0)
        let id = JobID.random()

        let first = sent(submit(&core, id: id, timeout: 5000, now: 1000))
        #expect(first.map(\.identity) == [pre])
        let hop0 = try #require(first.first).message
        #expect(hop0.header.type == .work)
        #expect(hop0.header.deadline == 6000)
        #expect(hop0.body == [[1, 2, 3], []])

        let bundleID = JobID.random()
        let second = sent(bundle(&core, from: pre, jobs: [id], id: bundleID, sealed: [4, 4]))
        #expect(second.map(\.identity) == [shard])
        let hop1 = try #require(second.first).message
        #expect(hop1.header.type == .workBundle)
        #expect(hop1.header.jobID == bundleID)
        #expect(hop1.header.hop == 1)
        #expect(hop1.body[1] == [4, 4])
        #expect(try BundleTable(decoding: hop1.body[0]).entries.map(\.jobID) == [id])

        let third = sent(bundle(&core, from: shard, jobs: [id], sealed: [5]))
        #expect(third.map(\.identity) == [post])
        #expect(third.first?.message.header.hop == 2)

        let last = result(&core, from: post, job: id, output: [6])
        guard case .toClient(let to, let resultFrames) = try #require(last.first) else {
            Issue.record("no result")
            return
        }
        #expect(to == client)
        let answer = try PipelineMessage(frames: resultFrames)
        #expect(answer.header.type == .result)
        #expect(answer.header.jobID == id)
        #expect(answer.header.deadline == 6000)
        #expect(answer.body[0] == [6])
        #expect(core.jobsInFlight == 0)
        #expect(core.counters.results == 1)
        #expect(core.replicaStatus.map(\.inFlight) == [0, 0, 0])
        // A duplicate result after the end is dropped, not a second result.
        #expect(result(&core, from: post, job: id).isEmpty)
        #expect(core.counters.droppedFromReplicas["unexpected_forward"] == 1)
    }

    @Test func jobsComputedTogetherTravelAsOneBundleAndEndOneByOne() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0, capacity: 8)
        let (shard, _) = announce(&core, role: "shard-0", replica: 0, capacity: 8)
        let (post, _) = announce(&core, role: "postprocessor", replica: 0, capacity: 8)
        let ids = (0..<4).map { _ in JobID.random() }
        for id in ids { _ = submit(&core, id: id) }

        // The front stage bundles all four: one message to the shard, holding four jobs.
        let toShard = sent(bundle(&core, from: pre, jobs: ids))
        #expect(toShard.count == 1)
        #expect(core.replicaStatus.first { $0.role == "shard-0" }?.inFlight == 4)
        #expect(core.replicaStatus.first { $0.role == "preprocessor" }?.inFlight == 0)

        // The shard refuses one job, leaves another out, and bundles the other two.
        let reject = MessageHeader(type: .reject, code: ErrorCode.stageFailed.rawValue, jobID: ids[0])
        let refused = toClients(
            core.replicaMessage(identity: shard, frames: [reject.encoded(), Array("bad input".utf8), [7, 7]], now: 1))
        #expect(refused[ids[0]]?.header.type == .error)
        // A detail the stage sealed to this job's client travels on to it, opaque to the gateway.
        #expect(refused[ids[0]]?.body[1] == [7, 7])
        let moved = bundle(&core, from: shard, jobs: [ids[2], ids[3]])
        let leftOut = toClients(moved)
        #expect(leftOut.keys.sorted { $0.description < $1.description } == [ids[1]])
        #expect(String(decoding: leftOut[ids[1]]!.body[0], as: UTF8.self).contains("left the job out"))
        #expect(sent(moved).map(\.identity) == [post])
        #expect(core.replicaStatus.first { $0.role == "shard-0" }?.inFlight == 0)

        #expect(toClients(result(&core, from: post, job: ids[2]))[ids[2]]?.header.type == .result)
        #expect(core.replicaStatus.first { $0.role == "postprocessor" }?.inFlight == 2)
        #expect(toClients(result(&core, from: post, job: ids[3]))[ids[3]]?.header.type == .result)
        #expect(core.replicaStatus.first { $0.role == "postprocessor" }?.inFlight == 0)
        #expect(core.jobsInFlight == 0)
        #expect(core.counters.results == 2)
        #expect(core.counters.errors == ["stage_failed": 2])
    }

    @Test func aBundleWhoseReplicaDiesIsRetriedWholeAndItsOverdueJobsStillEnd() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0)
        let (first, _) = announce(&core, role: "shard-0", replica: 0)
        let quick = JobID.random()
        let slow = JobID.random()
        _ = submit(&core, id: quick, timeout: 2000)
        _ = submit(&core, id: slow, timeout: 60_000)
        let original = try #require(sent(bundle(&core, from: pre, jobs: [quick, slow])).first)
        #expect(original.identity == first)

        // The first shard replica falls silent; the second keeps beating.
        let (second, _) = announce(&core, role: "shard-0", replica: 1, now: 1500)
        _ = announce(&core, role: "preprocessor", replica: 0, now: 2500)
        _ = announce(&core, role: "shard-0", replica: 1, now: 2500)
        let actions = core.tick(now: 3000)
        let retried = sent(actions)
        #expect(retried.map(\.identity) == [second])
        #expect(retried.first?.message.body == original.message.body)  // the very same sealed bundle
        #expect(core.counters.retries == 1)
        #expect(toClients(actions)[quick]?.header.code == ErrorCode.deadlineExceeded.rawValue)

        // The dead replica's late bundle is dropped; the live one's moves the surviving job on,
        // while the overdue job rides along untracked.
        #expect(bundle(&core, from: first, jobs: [quick, slow]).isEmpty)
        #expect(core.jobsInFlight == 1)
        let (post, _) = announce(&core, role: "postprocessor", replica: 0, now: 3000)
        #expect(sent(bundle(&core, from: second, jobs: [quick, slow], now: 3000)).map(\.identity) == [post])
        #expect(result(&core, from: post, job: quick).isEmpty)
        #expect(toClients(result(&core, from: post, job: slow))[slow]?.header.type == .result)
        #expect(core.jobsInFlight == 0)
    }

    @Test func aStageRejectingAWholeBundleEndsEveryJobInIt() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0)
        let (shard, _) = announce(&core, role: "shard-0", replica: 0)
        let ids = [JobID.random(), JobID.random()]
        for id in ids { _ = submit(&core, id: id) }
        let bundleID = JobID.random()
        _ = bundle(&core, from: pre, jobs: ids, id: bundleID)
        let header = MessageHeader(type: .reject, code: ErrorCode.badSender.rawValue, jobID: bundleID)
        let ended = toClients(
            core.replicaMessage(identity: shard, frames: [header.encoded(), Array("not signed".utf8), []], now: 1))
        #expect(Set(ended.keys) == Set(ids))
        #expect(ended.values.allSatisfy { $0.header.code == ErrorCode.badSender.rawValue })
        #expect(core.jobsInFlight == 0)
        #expect(core.replicaStatus.map(\.inFlight) == [0, 0])
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
        let sentFirst = submit(&core, id: id, timeout: 60_000, now: 0)
        guard case .toReplica(first, let work) = try #require(sentFirst.first) else {
            Issue.record("not dispatched")
            return
        }
        let (second, _) = announce(&core, role: "preprocessor", replica: 1, now: 1500)
        // The first replica falls silent; the second keeps beating.
        _ = announce(&core, role: "preprocessor", replica: 1, now: 2500)
        let retried = core.tick(now: 3000)
        #expect(core.counters.replicasLost == 1)
        #expect(core.counters.retries == 1)
        guard case .toReplica(second, let again) = try #require(retried.first) else {
            Issue.record("not retried")
            return
        }
        #expect(again == work)  // the very same sealed hop
        // The dead replica's late output is dropped; the live one's moves the job on.
        #expect(bundle(&core, from: first, jobs: [id]).isEmpty)
        #expect(core.jobsInFlight == 1)
        _ = announce(&core, role: "shard-0", replica: 0, now: 3000)
        #expect(sent(bundle(&core, from: second, jobs: [id], now: 3000)).count == 1)
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

    @Test func aJobSealedToTheNextEpochWaitsForTheFrontReplicasToRotate() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0, epochs: [1])
        let ahead = JobID.random()
        let current = JobID.random()
        // The broker rotated; this client's fresh manifest says epoch 2, the replica is still on 1.
        #expect(submit(&core, id: ahead, epoch: 2).isEmpty)
        #expect(core.queueDepths["preprocessor"] == 1)
        // A job under the replica's epoch does not wait behind it.
        #expect(sent(submit(&core, id: current, epoch: 1)).map(\.identity) == [pre])
        #expect(try clientError(submit(&core, id: .random(), epoch: 3)).0 == .unknownEpoch)
        // The replica attests again and announces both epochs: the waiting job goes out.
        let (_, released) = announce(&core, role: "preprocessor", replica: 0, epochs: [2, 1])
        #expect(sent(released).map { $0.message.header.jobID } == [ahead])
        #expect(core.queueDepths["preprocessor"] == 0)
        // Once the old epoch's grace is over, jobs under it are refused.
        _ = announce(&core, role: "preprocessor", replica: 0, epochs: [2])
        #expect(try clientError(submit(&core, id: .random(), epoch: 1)).0 == .unknownEpoch)
    }

    @Test func aJobWhoseEpochEndedInFlightEndsAsUnknownEpochOnceNoLaterReplicaHoldsIt() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0, capacity: 4, epochs: [1])
        let (shard, _) = announce(&core, role: "shard-0", replica: 0, capacity: 1, epochs: [1])
        let (first, second) = (JobID.random(), JobID.random())
        _ = submit(&core, id: first, epoch: 1)
        _ = submit(&core, id: second, epoch: 1)
        #expect(sent(bundle(&core, from: pre, jobs: [first])).map(\.identity) == [shard])
        // The shard is full: the second job's bundle (still under epoch 1) waits for it.
        let waitingBundle = bundle(&core, from: pre, jobs: [second])
        #expect(sent(waitingBundle).isEmpty)
        #expect(core.queueDepths["shard-0"] == 1)
        // A replica still holding epoch 1 keeps it waiting.
        _ = announce(&core, role: "shard-0", replica: 1, capacity: 0, epochs: [2, 1])
        #expect(core.jobsInFlight == 2)
        // Every shard replica now holds only epoch 2: the waiting job can never be taken.
        _ = announce(&core, role: "shard-0", replica: 1, capacity: 0, epochs: [2])
        let ended = announce(&core, role: "shard-0", replica: 0, capacity: 1, epochs: [2]).1
        #expect(toClients(ended)[second]?.header.code == ErrorCode.unknownEpoch.rawValue)
        #expect(core.jobsInFlight == 1)
        #expect(core.queueDepths["shard-0"] == 0)
    }

    @Test func requestsTakenBeforeAnyFrontReplicaEndOnceTheirEpochTurnsOutStale() throws {
        var core = makeCore()
        let stale = JobID.random()
        let next = JobID.random()
        // No front replica known yet: any epoch waits.
        #expect(submit(&core, id: stale, epoch: 7).isEmpty)
        #expect(submit(&core, id: next, epoch: 2).isEmpty)
        let (_, actions) = announce(&core, role: "preprocessor", replica: 0, epochs: [1])
        #expect(toClients(actions)[stale]?.header.code == ErrorCode.unknownEpoch.rawValue)
        #expect(toClients(actions)[next] == nil)
        #expect(core.queueDepths["preprocessor"] == 1)
        #expect(core.jobsInFlight == 1)
    }

    @Test func aQueuedUnitNoReplicaCanTakeYetDoesNotHoldUpTheOthers() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0, capacity: 1, epochs: [1])
        let first = JobID.random()
        #expect(sent(submit(&core, id: first, epoch: 1)).count == 1)
        let ahead = JobID.random()
        let behind = JobID.random()
        _ = submit(&core, id: ahead, epoch: 2)
        _ = submit(&core, id: behind, epoch: 1)
        #expect(core.queueDepths["preprocessor"] == 2)
        // Room frees up: the epoch-1 job goes, the epoch-2 job keeps waiting at the head.
        let freed = bundle(&core, from: pre, jobs: [first])
        #expect(sent(freed).filter { $0.identity == pre }.map { $0.message.header.jobID } == [behind])
        #expect(core.queueDepths["preprocessor"] == 1)
    }

    @Test func badRequestsGetClearErrorsAndTheGatewayKeepsServing() throws {
        var core = makeCore(maxInFlight: 2, maxPayload: 16)
        _ = announce(&core, role: "preprocessor", replica: 0, epochs: [5])
        let id = JobID.random()

        #expect(
            try clientError(core.clientMessage(identity: client, frames: [[1, 2, 3]], peerAddress: nil, now: 0)).0
                == .malformed)
        #expect(
            try clientError(core.clientMessage(identity: client, frames: [], peerAddress: nil, now: 0)).0 == .malformed)
        var badVersion = MessageHeader(type: .submit, jobID: id).encoded()
        badVersion[0] = 2
        #expect(
            try clientError(core.clientMessage(identity: client, frames: [badVersion, [1]], peerAddress: nil, now: 0)).0
                == .unsupportedVersion)
        let result = MessageHeader(type: .result, jobID: id).encoded()
        #expect(
            try clientError(core.clientMessage(identity: client, frames: [result, [1], [2]], peerAddress: nil, now: 0))
                .0 == .malformed)
        #expect(
            try clientError(submit(&core, id: id, epoch: 5, payload: Array(repeating: 0, count: 17))).0 == .tooLarge)
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
        let actions = core.replicaMessage(
            identity: pre, frames: [header.encoded(), Array("sealed to another key".utf8), []], now: 1)
        let (code, text) = try clientError(actions)
        #expect(code == .couldNotOpen)
        #expect(text.contains("preprocessor refused the job"))
        #expect(core.jobsInFlight == 0)
    }

    @Test func forgedOrGarbageReplicaMessagesAreDroppedAndCounted() throws {
        var core = makeCore()
        let (pre, _) = announce(&core, role: "preprocessor", replica: 0)
        let id = JobID.random()
        _ = submit(&core, id: id)
        // A party that is not holding the job tries to move it on, or to end it.
        let intruder = Array("intruder".utf8)
        #expect(bundle(&core, from: intruder, jobs: [id]).isEmpty)
        #expect(result(&core, from: intruder, job: id).isEmpty)
        // The holder may not skip to a result either: only the last role answers clients.
        #expect(result(&core, from: pre, job: id).isEmpty)
        #expect(core.replicaMessage(identity: intruder, frames: [[0xde, 0xad]], now: 1).isEmpty)
        let header = MessageHeader(type: .forwardBundle, jobID: .random()).encoded()
        #expect(core.replicaMessage(identity: pre, frames: [header, [0, 0], [1], [2]], now: 1).isEmpty)
        let (_, unknownRole) = announce(&core, role: "mallory", replica: 0)
        #expect(unknownRole.isEmpty)
        #expect(
            core.counters.droppedFromReplicas == [
                "unproven_peer": 2, "unexpected_forward": 1, "malformed": 1, "malformed_bundle": 1,
            ])
        #expect(core.counters.announcementsRefused == ["unknown_role": 1])
        #expect(core.jobsInFlight == 1)
    }
}

enum GatewayTestFailure: Error { case notToClient }
