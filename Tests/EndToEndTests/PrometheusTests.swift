import Foundation
import Observability
import Testing

extension EndToEndTests {
    /// A real Prometheus server scrapes every service of a launched topology, and a PromQL query
    /// through its HTTP API returns the gateway's request count after a load run.
    @Test(
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: "/usr/bin/prometheus"),
            "needs Debian's prometheus (Scripts/setup.sh installs it)"))
    func prometheusScrapesEveryServiceAndSeesTheGatewaysRequests() throws {
        let pipeline = try LaunchedPipeline(topology: "echo.yaml")
        let directory = pipeline.workingDirectory
        // Topologies/echo.yaml's metrics: the broker, the gateway and its four stages.
        let targets = (9430...9435).map { "'127.0.0.1:\($0)'" }.joined(separator: ", ")
        try """
        global: {scrape_interval: 500ms, evaluation_interval: 1s}
        scrape_configs:
          - job_name: sealpipe
            static_configs: [{targets: [\(targets)]}]
        """.write(to: directory.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus")
        server.arguments = [
            "--config.file=\(directory.appendingPathComponent("prometheus.yml").path)",
            "--storage.tsdb.path=\(directory.appendingPathComponent("tsdb").path)",
            "--web.listen-address=127.0.0.1:19090",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        func query(_ promql: String) -> [[String: Any]] {
            let encoded = promql.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? promql
            guard let text = try? HTTPGet.fetch(host: "127.0.0.1", port: 19090, path: "/api/v1/query?query=\(encoded)"),
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let data = object["data"] as? [String: Any]
            else { return [] }
            return data["result"] as? [[String: Any]] ?? []
        }
        func value(_ sample: [String: Any]) -> Double? {
            ((sample["value"] as? [Any])?.last as? String).flatMap(Double.init)
        }

        // Every service is up as Prometheus sees it.
        var up: [[String: Any]] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            up = query("up")
            if up.count == 6, up.allSatisfy({ value($0) == 1 }) { break }
            usleep(250_000)
        }
        #expect(up.count == 6)
        #expect(up.allSatisfy { value($0) == 1 })

        let report = directory.appendingPathComponent("loadtest.json").path
        let run = try pipeline.run([
            "loadtest", "--topology", "Topologies/echo.yaml", "--concurrency", "4", "--requests", "120", "--warm-up",
            "0",
            "--json", report, "--allow-simulated",
        ])
        #expect(run.status == 0)
        let figures = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let sent = try #require(figures["total_sent"] as? Int)
        var seen: Double?
        while Date() < deadline.addingTimeInterval(30) {
            seen = query("sealpipe_gateway_requests_total").first.flatMap(value)
            if seen == Double(sent) { break }
            usleep(250_000)
        }
        #expect(seen == Double(sent), "PromQL sees the gateway's request count")
        #expect(pipeline.stop() == 0)
    }
}
