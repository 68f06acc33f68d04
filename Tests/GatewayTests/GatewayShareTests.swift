import Observability
import Testing
import Wire

@testable import Gateway

/// One client (a front connection) and one peer address each hold at most a share of
/// `maxInFlight`: a flood from one of them is refused `busy` past its share while everyone else
/// is still served, and a share frees up as its jobs end, however they end.
@Suite("Gateway: per-client and per-address shares of maxInFlight")
struct GatewayShareTests {
    let credentials = ReplicaCredentials()

    func makeCore(maxInFlight: Int, perClient: Int? = nil, perAddress: Int? = nil) -> GatewayCore {
        GatewayCore(
            configuration: GatewayConfiguration(
                roles: ["preprocessor"], replicaTrust: credentials.trust(), maxInFlight: maxInFlight,
                maxInFlightPerClient: perClient, maxInFlightPerAddress: perAddress, defaultDeadline: .seconds(60),
                maxDeadline: .seconds(60), replicaTimeout: .seconds(600), aheadOfEpochHold: .seconds(5)))
    }

    /// Announces the front (and only) role's replica; returns its routing identity.
    @discardableResult
    func announce(_ core: inout GatewayCore, capacity: UInt32 = 1000, epochs: [UInt32] = [1], now: UInt64 = 0)
        -> [UInt8]
    {
        let identity = Array("preprocessor#0".utf8)
        let announcement = credentials.announcement(
            role: "preprocessor", capacity: capacity, epochs: epochs, routingID: identity, now: now)
        _ = core.replicaMessage(identity: identity, frames: ReplicaCredentials.frames(announcement), now: now)
        return identity
    }

    func submit(
        _ core: inout GatewayCore, client: String, address: String?, id: JobID = .random(), epoch: UInt32 = 1,
        now: UInt64 = 0
    ) -> [GatewayAction] {
        let header = MessageHeader(type: .submit, epoch: epoch, jobID: id)
        return core.clientMessage(
            identity: Array(client.utf8), frames: [header.encoded(), [1, 2, 3]], peerAddress: address, now: now)
    }

    /// True if the request was taken: dispatched to a replica or queued, nothing sent to the client.
    func accepted(_ actions: [GatewayAction]) -> Bool {
        actions.allSatisfy {
            if case .toReplica = $0 { true } else { false }
        }
    }

    /// The code and text of a single error sent to a client; nil if `actions` is anything else
    /// (an accepted job is dispatched or queued, never answered at once).
    func refusal(_ actions: [GatewayAction]) -> (code: ErrorCode, text: String)? {
        guard actions.count == 1, case .toClient(_, let frames) = actions[0],
            let message = try? PipelineMessage(frames: frames), message.header.type == .error,
            let code = ErrorCode(rawValue: message.header.code)
        else { return nil }
        return (code, String(decoding: message.body[0], as: UTF8.self))
    }

    /// The replica's final result for one job.
    func result(_ core: inout GatewayCore, from replica: [UInt8], job: JobID) -> [GatewayAction] {
        let header = MessageHeader(type: .forward, epoch: 1, jobID: job, deadline: 60_000)
        return core.replicaMessage(
            identity: replica, frames: [header.encoded(), [6], Array(repeating: 7, count: 64)], now: 1)
    }

    @Test func aConnectionFloodingPastItsShareGetsBusyWhileAnotherConnectionIsStillAccepted() throws {
        var core = makeCore(maxInFlight: 16)
        announce(&core)
        var refusals: [String] = []
        for _ in 0..<1000 {
            let actions = submit(&core, client: "attacker", address: "203.0.113.7")
            if let (code, text) = refusal(actions) {
                #expect(code == .busy)
                refusals.append(text)
            }
        }
        // A quarter of maxInFlight by default: 4 accepted, the rest refused by name.
        #expect(refusals.count == 996)
        #expect(
            refusals.first
                == "this connection already has 4 jobs in flight; the gateway allows 4 per client")
        #expect(core.jobsInFlight == 4)
        for index in 0..<4 {
            let actions = submit(&core, client: "real-\(index % 2)", address: "198.51.100.\(index % 2)")
            #expect(accepted(actions), "real request \(index) was refused")
        }
        #expect(core.jobsInFlight == 8)
        #expect(core.counters.busyOverShare == ["client": 996])
        #expect(core.counters.errors == ["busy": 996])

        // Metrics, status and the sampled warning name the share that refused them.
        let snapshot = GatewaySnapshot(
            counters: core.counters, replicas: core.replicaStatus, queueDepths: core.queueDepths,
            jobsInFlight: core.jobsInFlight, draining: false)
        var exposition = PrometheusExposition()
        snapshot.exposition(into: &exposition)
        #expect(exposition.text.contains("sealpipe_gateway_busy_over_share_total{share=\"client\"} 996\n"))
        #expect(snapshot.statusJSON().contains(#""busyOverShare":{"client":996}"#))
        var warnings = GatewayWarnings()
        warnings.record(since: GatewayCounters(), now: core.counters)
        let lines = warnings.sampler.due(now: .now)
        #expect(lines.contains(.init(kind: "busy_client_share", count: 996)))
    }

    @Test func connectionsFromOneAddressShareOneQuota() throws {
        var core = makeCore(maxInFlight: 16)
        announce(&core)
        // Each connection stays within its own share (4); together they reach the address's (8).
        for connection in 0..<2 {
            for _ in 0..<4 {
                #expect(accepted(submit(&core, client: "flood-\(connection)", address: "203.0.113.7")))
            }
        }
        let third = try #require(refusal(submit(&core, client: "flood-2", address: "203.0.113.7")))
        #expect(third.code == .busy)
        #expect(
            third.text
                == "connections from this address already have 8 jobs in flight; the gateway allows 8 per address")
        // Another address is served up to maxInFlight; past that the whole gateway is busy.
        for connection in 0..<2 {
            for _ in 0..<4 {
                #expect(accepted(submit(&core, client: "other-\(connection)", address: "198.51.100.2")))
            }
        }
        let full = try #require(refusal(submit(&core, client: "late", address: "192.0.2.1")))
        #expect(full.code == .busy)
        #expect(!full.text.contains("per client") && !full.text.contains("per address"))
        #expect(core.counters.busyOverShare == ["address": 1])
        #expect(core.counters.errors == ["busy": 2])
        #expect(core.shareTableSizes == (clients: 4, addresses: 2))
    }

    @Test func anUnknownAddressLeavesOnlyTheClientsShare() throws {
        var core = makeCore(maxInFlight: 16)
        announce(&core)
        // inproc:// peers have no address (nil), and an empty one is no address either: four
        // connections take all 16 slots, which one address could not.
        for connection in 0..<4 {
            for _ in 0..<4 {
                let address: String? = connection % 2 == 0 ? nil : ""
                #expect(accepted(submit(&core, client: "local-\(connection)", address: address)))
            }
        }
        #expect(core.jobsInFlight == 16)
        #expect(refusal(submit(&core, client: "local-0", address: nil))?.text.contains("4 per client") == true)
        #expect(core.counters.busyOverShare == ["client": 1])
        #expect(core.shareTableSizes == (clients: 4, addresses: 0))
    }

    @Test func aShareFreesUpAsItsJobsEndByResultRejectionOrDeadline() throws {
        var core = makeCore(maxInFlight: 8, perClient: 2)
        let replica = announce(&core)
        let (first, second) = (JobID.random(), JobID.random())
        #expect(submit(&core, client: "c", address: "192.0.2.1", id: first).count == 1)
        #expect(submit(&core, client: "c", address: "192.0.2.1", id: second).count == 1)
        #expect(refusal(submit(&core, client: "c", address: "192.0.2.1"))?.code == .busy)

        // A result frees one place.
        #expect(result(&core, from: replica, job: first).count == 1)
        #expect(submit(&core, client: "c", address: "192.0.2.1", now: 1).count == 1)
        #expect(refusal(submit(&core, client: "c", address: "192.0.2.1", now: 1))?.code == .busy)

        // So does a stage's refusal (a flood of garbage the first stage cannot open).
        let reject = MessageHeader(type: .reject, code: ErrorCode.couldNotOpen.rawValue, jobID: second)
        let rejected = core.replicaMessage(identity: replica, frames: [reject.encoded(), [], []], now: 1)
        #expect(refusal(rejected)?.code == .couldNotOpen)
        #expect(submit(&core, client: "c", address: "192.0.2.1", now: 1).count == 1)
        #expect(refusal(submit(&core, client: "c", address: "192.0.2.1", now: 1))?.code == .busy)

        // And a deadline: then nothing is left of the client or its address.
        let overdue = core.tick(now: 60_001)
        #expect(overdue.count == 2)
        #expect(overdue.compactMap { refusal([$0])?.code } == [.deadlineExceeded, .deadlineExceeded])
        #expect(core.jobsInFlight == 0)
        #expect(core.shareTableSizes == (clients: 0, addresses: 0))
        #expect(submit(&core, client: "c", address: "192.0.2.1", now: 60_001).count == 1)
        #expect(submit(&core, client: "c", address: "192.0.2.1", now: 60_001).count == 1)
        #expect(refusal(submit(&core, client: "c", address: "192.0.2.1", now: 60_001))?.code == .busy)
        #expect(core.counters.busyOverShare == ["client": 4])
    }

    @Test func nextEpochRequestsCountTowardAShareOnlyOnceTheFrontTakesThemUp() throws {
        var core = makeCore(maxInFlight: 8, perClient: 2)
        announce(&core, epochs: [1])
        #expect(submit(&core, client: "c", address: "192.0.2.1").count == 1)
        // Held under the next epoch in a quota of their own: not counted while they wait, and
        // one that ends unclaimed gives back nothing it did not take.
        #expect(submit(&core, client: "c", address: "192.0.2.1", epoch: 2).isEmpty)
        #expect(core.jobsAheadOfEpoch == 1)
        #expect(refusal(core.tick(now: 5000))?.code == .unknownEpoch)
        #expect(submit(&core, client: "c", address: "192.0.2.1", now: 5000).count == 1)
        let full = refusal(submit(&core, client: "c", address: "192.0.2.1", now: 5000))
        #expect(full?.text == "this connection already has 2 jobs in flight; the gateway allows 2 per client")

        // One waiting when the front takes up its epoch counts from then on, as toward maxInFlight.
        #expect(submit(&core, client: "c", address: "192.0.2.1", epoch: 2, now: 5000).isEmpty)
        announce(&core, epochs: [2, 1], now: 5001)
        #expect(core.jobsAheadOfEpoch == 0)
        #expect(core.jobsInFlight == 3)
        let over = refusal(submit(&core, client: "c", address: "192.0.2.1", now: 5001))
        #expect(over?.text == "this connection already has 3 jobs in flight; the gateway allows 2 per client")
        #expect(core.tick(now: 70_000).count == 3)
        #expect(core.shareTableSizes == (clients: 0, addresses: 0))
    }

    @Test func sharesDefaultToAQuarterAndAHalfOfMaxInFlightAndNeverExceedIt() {
        let trust = credentials.trust()
        func shares(_ maxInFlight: Int, _ client: Int? = nil, _ address: Int? = nil) -> [Int] {
            let configuration = GatewayConfiguration(
                roles: ["a"], replicaTrust: trust, maxInFlight: maxInFlight, maxInFlightPerClient: client,
                maxInFlightPerAddress: address)
            return [configuration.maxInFlightPerClient, configuration.maxInFlightPerAddress]
        }
        #expect(shares(1024) == [256, 512])
        #expect(shares(8) == [2, 4])
        #expect(shares(3) == [1, 1])
        #expect(shares(1) == [1, 1])
        #expect(shares(1024, 300, 700) == [300, 700])
        #expect(shares(1024, 2000, 4096) == [1024, 1024])
        #expect(shares(1024, 0, -1) == [1, 1])
        #expect(GatewayConfiguration.defaultClientShare(of: 1024) == 256)
        #expect(GatewayConfiguration.defaultAddressShare(of: 1024) == 512)
    }
}
