import Observability
import Testing

/// Reading back what `PrometheusExposition` writes, and the histogram arithmetic a trace uses.
@Suite("Prometheus samples")
struct PrometheusSamplesTests {
    @Test func readsBackAnExposition() {
        var exposition = PrometheusExposition()
        exposition.counter("jobs_total", "Jobs.", 7, labels: ["role": "a", "replica": "0"])
        exposition.counter("jobs_total", "Jobs.", 5, labels: ["role": "a", "replica": "1"])
        exposition.counter("jobs_total", "Jobs.", 2, labels: ["role": "b \"quoted\"", "replica": "0"])
        exposition.gauge("plain", "A gauge.", 1.5)
        let samples = PrometheusSamples(parsing: exposition.text)
        #expect(samples.skippedLines == 0)
        #expect(samples.sum("jobs_total", matching: ["role": "a"]) == 12)
        #expect(samples.sum("jobs_total", matching: ["role": "b \"quoted\""]) == 2)
        #expect(samples.sum("plain") == 1.5)
        #expect(samples.labelValues("role", of: "jobs_total") == ["a", "b \"quoted\""])
    }

    @Test func skipsWhatItDoesNotUnderstand() {
        let samples = PrometheusSamples(
            parsing: "# HELP x X.\nx 1\nbroken{role=\"a\" 2\nnovalue\ny{role=\"a\"} notanumber\nz{role=\"a\"} 3\n")
        #expect(samples.samples.map(\.name) == ["x", "z"])
        #expect(samples.skippedLines == 3)
    }

    @Test func histogramDeltasAndQuantiles() {
        var earlier = BucketHistogram(upperBounds: [1, 2, 4])
        earlier.observe(0.5)
        var later = earlier
        later.observe(1.5, times: 3)
        later.observe(3)
        func scrape(_ histogram: BucketHistogram) -> HistogramSample? {
            var exposition = PrometheusExposition()
            exposition.histogram("h", "H.", histogram, labels: ["role": "a"])
            return PrometheusSamples(parsing: exposition.text).histogram("h", matching: ["role": "a"])
        }
        let delta = scrape(later)!.since(scrape(earlier))
        #expect(delta.count == 4)
        #expect(delta.sum == 7.5)
        #expect(delta.mean == 1.875)
        // Ranks: 3 of 4 in (1, 2], one in (2, 4]; the median is rank 2 of 3 in (1, 2].
        #expect(abs(delta.quantile(0.5) - (1 + 2.0 / 3)) < 1e-9)
        #expect(delta.quantile(1) == 4)
        #expect(HistogramSample(cumulative: [], sum: 0, count: 0).quantile(0.5) == 0)
    }
}
