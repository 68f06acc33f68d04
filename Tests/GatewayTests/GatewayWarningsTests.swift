import Testing
import Wire

@testable import Gateway

/// The gateway logs what its counters gained, one line per class per interval, never one line
/// per refused message.
@Suite("Gateway warnings")
struct GatewayWarningsTests {
    @Test func aFloodOfRefusalsBecomesOneLinePerClassWithItsCount() {
        var core = GatewayCore(
            configuration: GatewayConfiguration(
                roles: ["preprocessor"], replicaTrust: ReplicaCredentials().trust(), maxPayloadBytes: 8))
        var warnings = GatewayWarnings()
        let start = ContinuousClock.now
        var before = core.counters
        let header = MessageHeader(type: .submit, epoch: 1, jobID: .random())
        for _ in 0..<4000 {
            _ = core.clientMessage(
                identity: [1], frames: [header.encoded(), Array(repeating: 0, count: 9)], peerAddress: nil, now: 0)
        }
        _ = core.clientMessage(identity: [1], frames: [[1, 2, 3]], peerAddress: nil, now: 0)
        core.discardedMessage(fromClient: true)
        core.discardedMessage(fromClient: false)
        warnings.record(since: before, now: core.counters)
        before = core.counters
        #expect(
            warnings.sampler.due(now: start) == [
                .init(kind: "error_malformed", count: 1), .init(kind: "error_too_large", count: 4000),
                .init(kind: "oversize_backend", count: 1), .init(kind: "oversize_front", count: 1),
            ])
        // Nothing new: no line, however often the loop asks.
        warnings.record(since: before, now: core.counters)
        #expect(warnings.sampler.due(now: start + .seconds(60)).isEmpty)
        #expect(core.counters.discarded == ["front": 1, "backend": 1])
    }
}
