import Observability
import SealpipeClient
import Testing

/// The per-hop trace from stage expositions before and after a run, as `--trace` scrapes them.
@Suite("Latency trace")
struct LatencyTraceTests {
    /// One replica's exposition: `jobs` jobs that each spent `inStage` seconds in the stage and
    /// waited `wait` of it, in batches of `batch`.
    func exposition(role: String, replica: Int, jobs: UInt64, inStage: Double, wait: Double, batch: Double) -> String {
        var counters = StageCountersFixture()
        counters.residence.observe(inStage, times: jobs)
        counters.wait.observe(wait, times: jobs)
        if jobs > 0 { counters.batches.observe(batch, times: jobs / UInt64(batch)) }
        var exposition = PrometheusExposition()
        let labels = ["role": role, "replica": String(replica)]
        exposition.histogram("sealpipe_stage_job_seconds", "", counters.residence, labels: labels)
        exposition.histogram("sealpipe_stage_queue_wait_seconds", "", counters.wait, labels: labels)
        exposition.histogram("sealpipe_stage_batch_size", "", counters.batches, labels: labels)
        return exposition.text
    }

    struct StageCountersFixture {
        var residence = BucketHistogram.durations()
        var wait = BucketHistogram.durations()
        var batches = BucketHistogram.sizes()
    }

    @Test func theRestIsWhatTheStagesDoNotAccountFor() {
        let before = [
            PrometheusSamples(parsing: exposition(role: "a", replica: 0, jobs: 10, inStage: 1, wait: 1, batch: 1)),
            PrometheusSamples(parsing: exposition(role: "b", replica: 0, jobs: 0, inStage: 0, wait: 0, batch: 1)),
        ]
        // During the run: 100 jobs through a (2 ms each, 0.5 ms of it waiting), split over two
        // replicas of b (3 ms each), in batches of 4.
        var after = [
            exposition(role: "a", replica: 0, jobs: 10, inStage: 1, wait: 1, batch: 1)
                + exposition(role: "a", replica: 0, jobs: 100, inStage: 0.002, wait: 0.0005, batch: 4)
        ]
        after.append(exposition(role: "b", replica: 0, jobs: 60, inStage: 0.003, wait: 0.001, batch: 4))
        after.append(exposition(role: "b", replica: 1, jobs: 40, inStage: 0.003, wait: 0.001, batch: 4))
        let trace = LatencyTrace(
            roles: ["a", "b"], before: before, after: after.map(PrometheusSamples.init(parsing:)),
            endToEndMeanMilliseconds: 8, endToEndP50Milliseconds: 7.5)
        #expect(trace.stages.map(\.role) == ["a", "b"])
        #expect(trace.stages.map(\.jobs) == [100, 100])
        #expect(abs(trace.stages[0].inStageMeanMilliseconds - 2) < 1e-9)
        #expect(abs(trace.stages[0].queueWaitMeanMilliseconds - 0.5) < 1e-9)
        #expect(abs(trace.stages[1].inStageMeanMilliseconds - 3) < 1e-9)
        #expect(trace.stages[1].meanBatch == 4)
        #expect(abs(trace.restMeanMilliseconds - 3) < 1e-9)
        #expect(trace.table.contains("the rest (transport, gateway, client seal and open; mean): 3.000 ms"))
    }
}
