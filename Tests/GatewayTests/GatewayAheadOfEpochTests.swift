import Gateway
import Testing
import Wire

/// Requests sealed to the next key epoch wait in a small quota of their own, briefly: a flood of
/// them cannot fill `maxInFlight` and turn real clients away.
@Suite("Gateway: requests ahead of the front's epoch")
struct GatewayAheadOfEpochTests {
    let client: [UInt8] = Array("client-1".utf8)
    let credentials = ReplicaCredentials()

    /// One client may use all of `maxInFlight` here: the shares are `GatewayShareTests`' subject.
    func makeCore(maxInFlight: Int = 8, maxAhead: Int = 4, hold: Duration = .seconds(10)) -> GatewayCore {
        GatewayCore(
            configuration: GatewayConfiguration(
                roles: ["preprocessor", "postprocessor"], replicaTrust: credentials.trust(), maxInFlight: maxInFlight,
                maxInFlightPerClient: maxInFlight,
                defaultDeadline: .seconds(60),
                maxDeadline: .seconds(300), maxAheadOfEpoch: maxAhead, aheadOfEpochHold: hold))
    }

    func announceFront(_ core: inout GatewayCore, epochs: [UInt32], capacity: UInt32 = 1, now: UInt64 = 0)
        -> [GatewayAction]
    {
        let identity = Array("pre#0".utf8)
        let announcement = credentials.announcement(
            role: "preprocessor", capacity: capacity, epochs: epochs, routingID: identity, now: now)
        return core.replicaMessage(identity: identity, frames: ReplicaCredentials.frames(announcement), now: now)
    }

    func submit(_ core: inout GatewayCore, id: JobID = .random(), epoch: UInt32, now: UInt64 = 0) -> [GatewayAction] {
        let header = MessageHeader(type: .submit, epoch: epoch, jobID: id)
        return core.clientMessage(identity: client, frames: [header.encoded(), [1]], peerAddress: nil, now: now)
    }

    /// The error code of a single client-bound answer, or nil if there is none.
    func errorCode(_ actions: [GatewayAction]) -> ErrorCode? {
        guard actions.count == 1, case .toClient(_, let frames) = actions[0],
            let message = try? PipelineMessage(frames: frames),
            message.header.type == .error
        else { return nil }
        return ErrorCode(rawValue: message.header.code)
    }

    @Test func aThousandNextEpochRequestsCannotMakeRealClientsBusy() {
        var core = makeCore(maxInFlight: 8, maxAhead: 4)
        _ = announceFront(&core, epochs: [1])
        var refused = 0
        for _ in 0..<1024 {
            let actions = submit(&core, epoch: 2)
            if errorCode(actions) == .busy { refused += 1 } else { #expect(actions.isEmpty) }
        }
        #expect(refused == 1020)
        #expect(core.jobsAheadOfEpoch == 4)
        // Real clients still get the whole of maxInFlight.
        for index in 0..<8 {
            let actions = submit(&core, epoch: 1)
            #expect(errorCode(actions) == nil, "real request \(index) was refused")
        }
        #expect(errorCode(submit(&core, epoch: 1)) == .busy)
        #expect(core.jobsInFlight == 12)
    }

    @Test func aNextEpochRequestEndsAfterTheHoldUnlessTheFrontTakesItUp() {
        var core = makeCore(hold: .seconds(10))
        _ = announceFront(&core, epochs: [1], capacity: 4)
        let waiting = JobID.random()
        #expect(submit(&core, id: waiting, epoch: 2, now: 1000).isEmpty)
        #expect(core.tick(now: 10_999).isEmpty)
        #expect(errorCode(core.tick(now: 11_000)) == .unknownEpoch)
        #expect(core.jobsInFlight == 0)
        #expect(core.jobsAheadOfEpoch == 0)
        #expect(core.queueDepths["preprocessor"] == 0)
    }

    @Test func aRequestTheFrontTakesUpLeavesTheQuotaAndKeepsItsOwnDeadline() {
        var core = makeCore(maxAhead: 1, hold: .seconds(10))
        _ = announceFront(&core, epochs: [1], capacity: 4)
        let taken = JobID.random()
        #expect(submit(&core, id: taken, epoch: 2, now: 0).isEmpty)
        #expect(errorCode(submit(&core, epoch: 2, now: 0)) == .busy)
        // The front replica rotates and takes the job: the quota is free again and the hold no
        // longer applies (the job's deadline is 60 s).
        let released = announceFront(&core, epochs: [2, 1], capacity: 4, now: 1)
        #expect(released.count == 1)
        #expect(core.jobsAheadOfEpoch == 0)
        _ = announceFront(&core, epochs: [2, 1], capacity: 4, now: 10_500)
        #expect(core.tick(now: 11_000).isEmpty)
        #expect(core.jobsInFlight == 1)
        // Epoch 2 is now the front's own: a new request under it is an ordinary one.
        #expect(submit(&core, epoch: 2, now: 11_000).count == 1)
        #expect(core.jobsAheadOfEpoch == 0)
    }
}
