import Foundation
import Testing

@testable import SealpipeClient

/// The load agent protocol's messages: a plan round-trips, every out-of-range field is refused
/// by name, and figures merge back into a tally only when they are consistent.
@Suite("Load agent messages")
struct LoadAgentMessageTests {
    let plan = LoadTestPlan(
        mode: .openLoop(ratePerSecond: 40), warmUp: .seconds(1), duration: .seconds(5), requests: nil,
        bodies: [Array("a".utf8), [0, 255]], jobTimeout: .seconds(30))

    func decodePlan(_ json: String) throws(LoadAgentError) -> (plan: LoadTestPlan, workers: Int) {
        try LoadAgentMessage.decode(LoadAgentMessage.Plan.self, from: Array(json.utf8), what: "plan").validated()
    }

    func refusal(_ json: String) -> String? {
        do {
            _ = try decodePlan(json)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aPlanRoundTrips() throws {
        let sent = LoadAgentMessage.Plan(plan, workers: 3)
        let (back, workers) = try decodePlan(String(decoding: LoadAgentMessage.encode(sent), as: UTF8.self))
        #expect(workers == 3)
        #expect(back.mode == plan.mode)
        #expect(back.bodies == plan.bodies)
        #expect(back.duration == plan.duration)
        #expect(back.warmUp == plan.warmUp)
        #expect(back.jobTimeout == plan.jobTimeout)
    }

    @Test func malformedPlansAreRefusedByName() {
        let good = #""version":1,"warm_up_s":0,"duration_s":1,"job_timeout_s":5,"workers":1,"bodies":["YQ=="]"#
        #expect(refusal(#"{\#(good),"mode":"open-loop","rate":10}"#) == nil)
        #expect(refusal("not json")?.contains("not JSON of the agent protocol") == true)
        #expect(refusal(#"{"mode":"open-loop"}"#)?.contains("lacks") == true)
        #expect(refusal(#"{\#(good),"mode":"open-loop","rate":"fast"}"#)?.contains("wrong type at rate") == true)
        #expect(refusal(#"{\#(good),"mode":"open-loop","rate":0}"#)?.contains("rate 0.0 is out of range") == true)
        #expect(refusal(#"{\#(good),"mode":"open-loop","concurrency":3}"#)?.contains("mode must be") == true)
        #expect(
            refusal(#"{\#(good),"mode":"closed-loop","concurrency":1000000}"#)?.contains("concurrency 1000000") == true)
        #expect(
            refusal(
                #"{"version":2,"warm_up_s":0,"duration_s":1,"job_timeout_s":5,"workers":1,"bodies":["YQ=="],"#
                    + #""mode":"open-loop","rate":1}"#)?.contains("version 2") == true)
        #expect(
            refusal(
                #"{"version":1,"warm_up_s":0,"job_timeout_s":5,"workers":1,"bodies":["YQ=="],"#
                    + #""mode":"open-loop","rate":1}"#)?.contains("neither duration_s nor requests") == true)
        #expect(
            refusal(
                #"{"version":1,"warm_up_s":0,"duration_s":1,"job_timeout_s":5,"workers":1,"bodies":["%%"],"#
                    + #""mode":"open-loop","rate":1}"#)?.contains("bodies[0]") == true)
        #expect(
            refusal(
                #"{"version":1,"warm_up_s":0,"duration_s":1,"job_timeout_s":5,"workers":0,"bodies":["YQ=="],"#
                    + #""mode":"open-loop","rate":1}"#)?.contains("workers 0") == true)
        let huge = [UInt8](repeating: 0x20, count: LoadAgentMessage.maxMessageBytes + 1)
        #expect(throws: LoadAgentError.self) {
            try LoadAgentMessage.decode(LoadAgentMessage.Plan.self, from: huge, what: "plan")
        }
    }

    func tally(results: [UInt64]) -> LoadTestTally {
        var tally = LoadTestTally(measuredFrom: .now)
        for micros in results {
            _ = tally.histogram.record(micros)
            tally.results += 1
        }
        tally.totalSent = results.count
        tally.measuredSent = results.count
        tally.lastCompletion = tally.measuredFrom + .seconds(3)
        return tally
    }

    @Test func figuresMergeBackIntoOneTally() throws {
        let one = LoadAgentMessage.Figures(tally(results: [1000, 2000, 3000]), clientCPUSeconds: 0.5, workers: 2)
        let two = LoadAgentMessage.Figures(tally(results: [4000]), clientCPUSeconds: 0.25, workers: 1)
        let decoded = try [one, two].map {
            try JSONDecoder().decode(LoadAgentMessage.Figures.self, from: Data(LoadAgentMessage.encode($0)))
        }
        #expect(decoded == [one, two])
        let measuredFrom = ContinuousClock.now
        var merged = try decoded[0].tally(measuredFrom: measuredFrom)
        merged.merge(try decoded[1].tally(measuredFrom: measuredFrom))
        #expect(merged.results == 4)
        #expect(merged.histogram.totalCount == 4)
        #expect(merged.histogram.valueAtPercentile(100) >= 3999)
        #expect(merged.lastCompletion == measuredFrom + .seconds(3))
    }

    @Test func inconsistentFiguresAreRefused() {
        var figures = LoadAgentMessage.Figures(tally(results: [1000, 2000]), clientCPUSeconds: 0, workers: 1)
        figures.results = 5
        #expect(throws: LoadAgentError.refused("the histogram holds 2 values for 5 results")) {
            try figures.tally(measuredFrom: .now)
        }
        figures.results = 2
        figures.histogram.append([1])
        #expect(throws: LoadAgentError.self) { try figures.tally(measuredFrom: .now) }
        figures.histogram.removeLast()
        figures.errors = 1
        #expect(throws: LoadAgentError.refused("errors_by_code does not add up to errors")) {
            try figures.tally(measuredFrom: .now)
        }
    }
}
