import ArgumentParser
import Foundation
import Inference
import SealpipeClient

/// `sealpipe loadtest`: drive a running pipeline and report latency percentiles and throughput.
struct LoadtestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Load-test a running pipeline: open loop at a rate, or closed loop at a concurrency.",
        discussion: """
            sealpipe loadtest --rate 50 --duration 30 --json out.json --html out.html
            sealpipe loadtest --concurrency 16 --requests 2000
            sealpipe loadtest --sweep --p99-bound 200        finds the highest rate that keeps p99 under 200 ms
            sealpipe loadtest --agent 10.0.0.2:5700          on each load host: serve plans from a coordinator
            sealpipe loadtest --agents 10.0.0.2:5700,10.0.0.3:5700 --concurrency 512 --requests 100000
                                                             splits the load over the agents, merges one report
            Open-loop latency counts from each job's intended send time (coordinated omission corrected).
            """)

    @OptionGroup var target: PipelineLocation

    @Option(help: "JSON lines {\"text\": …} to send, as `sealpipe embed` reads them (default: a built-in mix).")
    var input: String?

    @Option(help: "Open loop: jobs per second.")
    var rate: Double?

    @Option(help: "Closed loop: jobs in flight at once.")
    var concurrency: Int?

    @Option(help: "Seconds to measure after the warm-up (default 10 unless --requests).")
    var duration: Double?

    @Option(help: "Measured jobs to send instead of a duration.")
    var requests: Int?

    @Option(help: "Warm-up seconds (sent but not measured).")
    var warmUp: Double = 2

    @Option(
        help: """
            Load-generating threads, each with its own socket and an equal share of the rate, concurrency and \
            requests; their figures are merged into one report (default: one per core).
            """)
    var workers: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        help: """
            Write the figures as JSON to this file: throughput_per_s, p50_ms, p90_ms, p99_ms, p99_9_ms, max_ms, \
            mean_ms, requests, results, errors, errors_by_code, duration_s, total_sent, client_cpu_seconds, \
            manifest_refreshes, resent, timeline, percentiles.
            """)
    var json: String?

    @Option(help: "Write a self-contained HTML report to this file.")
    var html: String?

    @Flag(help: "Find the highest open-loop rate whose p99 stays under --p99-bound.")
    var sweep = false

    @Option(help: "The p99 bound in milliseconds for --sweep.")
    var p99Bound: Double = 250

    @Flag(
        help: """
            Also print where a job's time goes, hop by hop: every stage's queue wait, open, compute, seal and time \
            in stage, from the stages' metrics (read from the topology's addresses before and after the run).
            """)
    var trace = false

    @Flag(
        help: """
            Ask every stage for a receipt on every job (to measure what receipts cost, against a run without); a \
            result without a decodable chain counts as an error. Not with --agents.
            """)
    var receipts = false

    @Option(
        help: """
            Serve as a load agent on this address (HOST:PORT): run the plans a coordinator sends against this \
            command's pipeline (its topology and verified manifest), until stopped. Bind an address only the \
            coordinator can reach.
            """)
    var agent: String?

    @Option(
        help: """
            Coordinate load agents (HOST:PORT,…): each runs an equal share of this plan on --workers threads, at \
            once; their figures, HDR histograms included, are merged into one report.
            """)
    var agents: String?

    func validate() throws {
        if agent != nil && agents != nil {
            throw ValidationError("give --agent (serve) or --agents (coordinate), not both")
        }
        if agents != nil && sweep {
            throw ValidationError("--agents runs one plan; it cannot be combined with --sweep")
        }
        if let agent { _ = try Self.endpoint(agent, option: "--agent") }
        if let agents { _ = try Self.agentEndpoints(agents) }
        if receipts && agents != nil {
            throw ValidationError("--receipts runs on this host's workers, not with --agents")
        }
        if trace && sweep { throw ValidationError("--trace measures one run; it cannot be combined with --sweep") }
        if rate != nil && concurrency != nil {
            throw ValidationError("give --rate (open loop) or --concurrency (closed loop), not both")
        }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let requests, requests < 1 { throw ValidationError("--requests must be at least 1") }
        if workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() async throws {
        let bodies = try loadBodies()
        let location = target
        // A coordinator sends no jobs itself: only its agents need the pipeline's manifest.
        let tester =
            try agents == nil
            ? LoadTester(target: target.resolveTarget(), refreshTarget: { try location.resolveTarget(announce: false) })
            : nil
        if let agent, let tester {
            try serveAsAgent(agent, tester: tester)
            return
        }
        let jobTimeout = Duration.milliseconds(Int64(target.timeout * 1000))
        let result: LoadTestResult
        var latencyTrace: LatencyTrace?
        if sweep, let tester {
            result = try runSweep(tester: tester, bodies: bodies, jobTimeout: jobTimeout)
        } else {
            let mode: LoadTestPlan.Mode =
                concurrency.map { .closedLoop(concurrency: $0) } ?? .openLoop(ratePerSecond: rate ?? 20)
            let measured =
                requests == nil
                ? Duration.milliseconds(Int64((duration ?? 10) * 1000))
                : duration.map { .milliseconds(Int64($0 * 1000)) }
            let plan = LoadTestPlan(
                mode: mode, warmUp: .milliseconds(Int64(warmUp * 1000)), duration: measured, requests: requests,
                bodies: bodies,
                jobTimeout: jobTimeout, receipts: receipts)
            let topology = trace ? try target.options.load() : nil
            let before = try topology.map(StageScrape.samples(of:))
            if let agents {
                result = try LoadAgent.coordinate(plan, agents: Self.agentEndpoints(agents), workersPerAgent: workers)
            } else if let tester {
                result = try tester.run(plan, workers: workers, progress: Self.showProgress)
                FileHandle.standardError.write(Data("\n".utf8))
            } else {
                preconditionFailure("a load test has a tester or agents")
            }
            if let topology, let before {
                // The stages record a job's figures as it leaves them; let the last ones land.
                try await Task.sleep(for: .milliseconds(200))
                latencyTrace = LatencyTrace(
                    roles: topology.stageRoles, before: before, after: try StageScrape.samples(of: topology),
                    endToEndMeanMilliseconds: result.meanMilliseconds, endToEndP50Milliseconds: result.p50Milliseconds)
            }
        }
        Output.line(Self.summary(result))
        if let latencyTrace { Output.line(latencyTrace.table) }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            if let latencyTrace {
                try encoder.encode(TracedResult(result: result, trace: latencyTrace)).write(
                    to: URL(fileURLWithPath: json))
            } else {
                try encoder.encode(result).write(to: URL(fileURLWithPath: json))
            }
        }
        if let html {
            try Data(LoadTestReport.html(result, title: "sealpipe loadtest").utf8).write(to: URL(fileURLWithPath: html))
        }
    }

    /// `--agent`: serve plans until the process is stopped.
    func serveAsAgent(_ address: String, tester: LoadTester) throws {
        let endpoint = try Self.endpoint(address, option: "--agent")
        try LoadAgent.serve(
            endpoint: endpoint, tester: tester,
            onBound: { Output.line("load agent listening on \($0)") },
            log: { FileHandle.standardError.write(Data("[agent] \($0)\n".utf8)) })
    }

    /// A ZeroMQ TCP endpoint from HOST:PORT (or a `tcp://` endpoint as it is).
    static func endpoint(_ address: String, option: String) throws -> String {
        if address.hasPrefix("tcp://") { return address }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (1...65535).contains(port), colon != address.startIndex
        else { throw ValidationError("\(option) \(address): expected HOST:PORT") }
        return "tcp://\(address)"
    }

    static func agentEndpoints(_ list: String) throws -> [String] {
        let endpoints = try list.split(separator: ",").map {
            try endpoint($0.trimmingCharacters(in: .whitespaces), option: "--agents")
        }
        guard !endpoints.isEmpty else { throw ValidationError("--agents lists no agent") }
        return endpoints
    }

    func runSweep(tester: LoadTester, bodies: [[UInt8]], jobTimeout: Duration) throws -> LoadTestResult {
        let step = Duration.milliseconds(Int64((duration ?? 5) * 1000))
        func trial(_ rate: Double) throws -> LoadTestResult {
            let plan = LoadTestPlan(
                mode: .openLoop(ratePerSecond: rate), warmUp: .milliseconds(Int64(warmUp * 1000)), duration: step,
                requests: nil,
                bodies: bodies, jobTimeout: jobTimeout, receipts: receipts)
            let result = try tester.run(plan, workers: workers)
            Output.line(
                String(
                    format: "[sweep] %.1f jobs/s: p99 %.1f ms, throughput %.1f/s, errors %d", rate,
                    result.p99Milliseconds, result.throughputPerSecond, result.errors))
            return result
        }
        func good(_ result: LoadTestResult) -> Bool { result.p99Milliseconds <= p99Bound && result.errors == 0 }
        var low = rate ?? 5
        var best = try trial(low)
        guard good(best) else {
            Output.line("[sweep] even \(low) jobs/s breaks the bound; try a lower --rate")
            return best
        }
        var high = low * 2
        while true {
            let result = try trial(high)
            if !good(result) { break }
            best = result
            low = high
            high *= 2
            if high > 100_000 { break }
        }
        for _ in 0..<4 {
            let middle = (low + high) / 2
            let result = try trial(middle)
            if good(result) {
                best = result
                low = middle
            } else {
                high = middle
            }
        }
        Output.line(String(format: "[sweep] highest rate with p99 ≤ %.0f ms: %.1f jobs/s", p99Bound, low))
        return best
    }

    /// Bodies from `--input` (JSON lines as `sealpipe embed` reads them) or a built-in mix.
    func loadBodies() throws -> [[UInt8]] {
        guard let input else { return Self.builtInMix.map { Array($0.utf8) } }
        let data =
            input == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: input))
        var bodies: [[UInt8]] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n").enumerated()
        where !line.allSatisfy(\.isWhitespace) {
            switch JSONLinesEmbedder.parse(String(line), number: index + 1) {
            case .success(let text): bodies.append(Array(text.utf8))
            case .failure(let error): throw ValidationError("--input line \(error.line): \(error.message)")
            }
        }
        guard !bodies.isEmpty else { throw ValidationError("--input \(input): no lines") }
        return bodies
    }

    /// The JSON report with `--trace`: the usual figures, and the trace under `trace`.
    struct TracedResult: Encodable {
        let result: LoadTestResult
        let trace: LatencyTrace

        func encode(to encoder: any Encoder) throws {
            try result.encode(to: encoder)
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(trace, forKey: Key(stringValue: "trace"))
        }

        struct Key: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
    }

    static let builtInMix = [
        "The quick brown fox jumps over the lazy dog.",
        "A confidential pipeline seals every hop to the role that must read it.",
        "Stock markets fell sharply on Monday as investors weighed new data on inflation and rates.",
        "Il pleut sur la ville.",
        "Attestation proves what code a node runs before it receives any key that opens client data, and the broker logs every release.",
        "東京は日本の首都です。",
        "Short one.",
        "Researchers measured latency percentiles under an open-loop load at a fixed rate, correcting for coordinated omission.",
    ]

    static func showProgress(_ progress: LoadTester.Progress) {
        let line = String(
            format: "\r[%4.0fs] sent %d, results %d, errors %d, p99 %.1f ms   ",
            Double(progress.elapsed.components.seconds),
            progress.sent, progress.completed, progress.errors, progress.p99Milliseconds)
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func summary(_ result: LoadTestResult) -> String {
        var text = String(
            format:
                "%@: %d requests, %d results, %d errors in %.1f s — %.1f jobs/s; latency p50 %.2f, p90 %.2f, p99 %.2f, p99.9 %.2f, max %.2f ms",
            result.mode, result.requests, result.results, result.errors, result.durationSeconds,
            result.throughputPerSecond,
            result.p50Milliseconds, result.p90Milliseconds, result.p99Milliseconds, result.p999Milliseconds,
            result.maxMilliseconds)
        if result.workers > 1 { text += " (\(result.workers) workers, merged)" }
        if result.manifestRefreshes > 0 {
            text +=
                "\nkey rotation: fetched the manifest again \(result.manifestRefreshes) time(s), resent \(result.resent) job(s)"
        }
        if !result.errorsByCode.isEmpty {
            text +=
                "\nerrors by code: "
                + result.errorsByCode.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        }
        return text
    }
}
