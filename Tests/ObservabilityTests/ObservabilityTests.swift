import Observability
import Testing

@Suite("Metrics exposition and endpoint", .timeLimit(.minutes(1)))
struct ObservabilityTests {
    @Test func expositionFollowsThePrometheusTextFormat() {
        var exposition = PrometheusExposition()
        exposition.counter("sealpipe_requests_total", "Requests.", 3)
        exposition.counter("sealpipe_errors_total", "Errors by code.", 2, labels: ["code": "busy"])
        exposition.counter("sealpipe_errors_total", "Errors by code.", 1, labels: ["code": "bad \"q\""])
        var histogram = BucketHistogram(upperBounds: [1, 2, 4])
        for value in [0.5, 1.5, 3, 100] { histogram.observe(value) }
        exposition.histogram("sealpipe_batch_size", "Batch sizes.", histogram)
        #expect(
            exposition.text == """
                # HELP sealpipe_requests_total Requests.
                # TYPE sealpipe_requests_total counter
                sealpipe_requests_total 3
                # HELP sealpipe_errors_total Errors by code.
                # TYPE sealpipe_errors_total counter
                sealpipe_errors_total{code="busy"} 2
                sealpipe_errors_total{code="bad \\"q\\""} 1
                # HELP sealpipe_batch_size Batch sizes.
                # TYPE sealpipe_batch_size histogram
                sealpipe_batch_size_bucket{le="1"} 1
                sealpipe_batch_size_bucket{le="2"} 2
                sealpipe_batch_size_bucket{le="4"} 3
                sealpipe_batch_size_bucket{le="+Inf"} 4
                sealpipe_batch_size_sum 105
                sealpipe_batch_size_count 4

                """)
    }

    @Test func serverAnswersMetricsStatusAndNotFound() async throws {
        let server = try MetricsHTTPServer(
            host: "127.0.0.1", port: 0, metrics: { "up 1\n" }, status: { "{\"ok\":true}" })
        let serving = try await MetricsServing.start(server)
        defer { serving.cancel() }
        let metrics = try HTTPGet.fetch(host: "127.0.0.1", port: server.port, path: "/metrics")
        #expect(metrics.hasPrefix("up 1\n"))
        // Every service also reports its process's CPU time and memory, in the standard names.
        let cpu = try #require(metrics.split(separator: "\n").first { $0.hasPrefix("process_cpu_seconds_total ") })
        #expect(Double(cpu.split(separator: " ")[1]).map { $0 > 0 } == true)
        #expect(metrics.contains("# TYPE process_resident_memory_bytes gauge"))
        #expect(try HTTPGet.fetch(host: "127.0.0.1", port: server.port, path: "/status") == "{\"ok\":true}")
        #expect(throws: HTTPStatusError.self) { try HTTPGet.fetch(host: "127.0.0.1", port: server.port, path: "/nope") }
    }
}
