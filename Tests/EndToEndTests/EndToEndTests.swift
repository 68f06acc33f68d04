import Foundation
import SealpipeClient
import Sodium
import Testing
import Trust
import Wire
import ZeroMQ

/// The built binary, launched on real topologies, with real clients (Swift and Python).
@Suite(
    "End to end (sealpipe launch)", .serialized, .timeLimit(.minutes(5)),
    .enabled(if: LaunchedPipeline.available, LaunchedPipeline.unavailableReason))
struct EndToEndTests {
    @Test func bothClientsGetTheSingleProcessModelsEmbeddings() throws {
        let cases = try ReferenceCases.load()
        let input = try ReferenceCases.jsonLines(cases)
        let pipeline = try LaunchedPipeline(topology: "minilm.yaml")
        #expect(pipeline.text.contains("front endpoint: tcp://127.0.0.1:5555"))
        #expect(pipeline.text.contains("manifest: sha256:"))

        let (swift, python) = try pipeline.runBothClients(
            topology: "minilm.yaml", stateDirectory: "minilm", input: input, allowSimulated: true)
        #expect(swift.status == 0)
        #expect(python.status == 0)
        let single = try pipeline.run(["embed", "--input", "-"], input: input)
        #expect(single.status == 0)

        let fromSwift = ReferenceCases.embeddings(fromJSONLines: swift.output)
        let fromPython = ReferenceCases.embeddings(fromJSONLines: python.output)
        let fromModel = ReferenceCases.embeddings(fromJSONLines: single.output)
        try #require(fromSwift.count == cases.count)
        try #require(fromPython.count == cases.count)
        try #require(fromModel.count == cases.count)
        for (index, item) in cases.enumerated() {
            let model = try #require(fromModel[index], "single-process model, case \(item.name)")
            let viaSwift = try #require(fromSwift[index], "Swift client, case \(item.name)")
            let viaPython = try #require(fromPython[index], "Python client, case \(item.name)")
            #expect(ReferenceCases.cosine(viaSwift, model) >= 0.9999, "Swift client vs model: \(item.name)")
            #expect(ReferenceCases.cosine(viaPython, model) >= 0.9999, "Python client vs model: \(item.name)")
            #expect(
                ReferenceCases.cosine(viaSwift, item.embedding) >= 0.9999,
                "Swift client vs sentence-transformers: \(item.name)")
        }
        #expect(pipeline.stop() == 0, "the launcher drains and exits 0 on SIGTERM")
    }

    @Test func malformedOversizeWrongEpochAndGarbageGetErrorsAndServiceGoesOn() throws {
        let pipeline = try LaunchedPipeline(topology: "minilm.yaml")
        let target = try pipeline.verifiedTarget(
            stateDirectory: "minilm", keyBroker: "tcp://127.0.0.1:5550", front: "tcp://127.0.0.1:5555")

        let context = try ZMQContext()
        let raw = try context.socket(.dealer)
        try raw.connect("tcp://127.0.0.1:5555")
        func answer(to frames: [[UInt8]]) throws -> PipelineMessage {
            try raw.send(frames)
            let reply = try #require(try raw.receive(timeout: .seconds(10)), "no answer")
            return try PipelineMessage(frames: reply)
        }
        // Garbage, a wrong frame count, an unknown version, an oversize payload, a wrong epoch.
        #expect(try answer(to: [Array("not a header".utf8)]).header.code == ErrorCode.malformed.rawValue)
        let id = JobID.random()
        #expect(
            try answer(to: [MessageHeader(type: .submit, jobID: id).encoded(), [1], [2]]).header.code
                == ErrorCode.malformed.rawValue)
        var version = MessageHeader(type: .submit, epoch: target.epoch, jobID: id).encoded()
        version[0] = 7
        #expect(try answer(to: [version, [1, 2, 3]]).header.code == ErrorCode.unsupportedVersion.rawValue)
        let oversize = [UInt8](repeating: 0x41, count: (1 << 20) + 1)
        #expect(
            try answer(to: [MessageHeader(type: .submit, epoch: target.epoch, jobID: id).encoded(), oversize]).header
                .code == ErrorCode.tooLarge.rawValue)
        let wrongEpoch = try answer(to: [
            MessageHeader(type: .submit, epoch: target.epoch + 40, jobID: id).encoded(), [1, 2, 3],
        ])
        #expect(wrongEpoch.header.code == ErrorCode.unknownEpoch.rawValue)
        // A request sealed to the right key but tampered with: refused by the front stage.
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        func sealedRequest(_ id: JobID, expiresAt: UInt64) throws -> [UInt8] {
            try SealedBox.seal(
                JobEnvelope(
                    jobID: id, expiresAt: expiresAt, replyKey: BoxKeyPair.generate().publicKey.bytes,
                    body: Array("hello".utf8)
                )
                .encoded(),
                to: target.frontKey)
        }
        var tampered = try sealedRequest(id, expiresAt: now + 30_000)
        tampered[tampered.count - 1] ^= 1
        #expect(
            try answer(to: [MessageHeader(type: .submit, epoch: target.epoch, jobID: id).encoded(), tampered]).header
                .code == ErrorCode.couldNotOpen.rawValue)

        // Replay: a request answered once, resent as captured with a longer clear timeout, is
        // refused by the front stage, which remembers it until its sealed expiry.
        let captured = JobID.random()
        let request = try sealedRequest(captured, expiresAt: now + 30_000)
        let first = try answer(to: [
            MessageHeader(type: .submit, epoch: target.epoch, jobID: captured, deadline: 20_000).encoded(), request,
        ])
        #expect(first.header.type == .result)
        for timeout: UInt64 in [20_000, 120_000, 0] {
            let replayed = try answer(
                to: [
                    MessageHeader(type: .submit, epoch: target.epoch, jobID: captured, deadline: timeout).encoded(),
                    request,
                ])
            #expect(replayed.header.code == ErrorCode.replayed.rawValue, "resent with timeout \(timeout) ms")
        }
        // A request whose sealed expiry has passed, and one that claims to matter for ten hours.
        let expired = JobID.random()
        let late = try answer(
            to: [
                MessageHeader(type: .submit, epoch: target.epoch, jobID: expired).encoded(),
                try sealedRequest(expired, expiresAt: now - 1),
            ])
        #expect(late.header.code == ErrorCode.deadlineExceeded.rawValue)
        let greedy = JobID.random()
        let tooFar = try answer(
            to: [
                MessageHeader(type: .submit, epoch: target.epoch, jobID: greedy).encoded(),
                try sealedRequest(greedy, expiresAt: now + 36_000_000),
            ])
        #expect(tooFar.header.code == ErrorCode.malformed.rawValue)

        // Bytes that are not ZeroMQ at all, on a plain TCP connection.
        try RawTCP.sendGarbage(host: "127.0.0.1", port: 5555, bytes: Array(repeating: 0xff, count: 4096))

        // And the pipeline still serves.
        let client = try PipelineClient(target: target)
        let answers = try client.submit([Array("still serving".utf8)], timeout: .seconds(30))
        let vector = try #require(try answers.first?.get())
        #expect(vector.count == 384 * 4)
        #expect(pipeline.stop() == 0)
    }

    @Test func killingAWorkerReplicaUnderLoadLosesNoJobAndTheReplicaComesBack() throws {
        let pipeline = try LaunchedPipeline(topology: "minilm-replicas.yaml")
        let target = try pipeline.verifiedTarget(
            stateDirectory: "minilm-replicas", keyBroker: "tcp://127.0.0.1:5560", front: "tcp://127.0.0.1:5565")
        let client = try PipelineClient(target: target)
        let sentences = (0..<200).map {
            Array("Sentence number \($0) travels through a sealed pipeline of attested stages.".utf8)
        }

        var pending: [JobID: PipelineClient.PendingJob] = [:]
        var outcomes: [JobID: Result<[UInt8], ClientError>] = [:]
        var killed = false
        let start = Date()
        for (index, body) in sentences.enumerated() {
            let job = try client.send(body, timeout: .seconds(60))
            pending[job.id] = job
            // A steady load of about 40 jobs a second; collect answers as they come.
            while let (id, answer) = try client.receive(pending: pending, timeout: .milliseconds(25)) {
                outcomes[id] = answer.map(\.body)
                pending[id] = nil
            }
            if index == 60, !killed {
                let victim = try #require(Self.processID(role: "shard-0", replica: 1), "no shard-0 replica 1 process")
                #expect(kill(victim, SIGKILL) == 0)
                killed = true
            }
        }
        while !pending.isEmpty, Date().timeIntervalSince(start) < 150,
            let (id, answer) = try client.receive(pending: pending, timeout: .seconds(30))
        {
            outcomes[id] = answer.map(\.body)
            pending[id] = nil
        }
        #expect(pending.isEmpty, "every accepted job ends with a result or an explicit error")
        let results = outcomes.values.filter { (try? $0.get()) != nil }.count
        let errors = outcomes.values.compactMap { if case .failure(let error) = $0 { error } else { nil } }
        #expect(!errors.contains(.timedOut))
        #expect(results + errors.count == sentences.count)
        #expect(results >= sentences.count - 5, "retries should save nearly every job; errors: \(errors.prefix(3))")

        // The launcher restarts the replica: the gateway sees two shard-0 replicas again.
        var replicas = 0
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            replicas = Self.liveReplicas(role: "shard-0", gatewayMetricsPort: 9411)
            if replicas == 2, Self.processID(role: "shard-0", replica: 1) != nil { break }
            usleep(200_000)
        }
        #expect(replicas == 2)
        #expect(pipeline.stop() == 0)
    }

    static func processID(role: String, replica: Int) -> Int32? {
        let needle = "--role\u{0}\(role)\u{0}--replica\u{0}\(replica)\u{0}"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                let command = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline"),
                String(decoding: command, as: UTF8.self).contains(needle),
                String(decoding: command, as: UTF8.self).hasPrefix(LaunchedPipeline.binary.path)
                    || String(decoding: command, as: UTF8.self).contains("sealpipe")
            else { continue }
            return pid
        }
        return nil
    }

    static func liveReplicas(role: String, gatewayMetricsPort: Int) -> Int {
        guard let text = try? HTTPStatus.fetch(port: gatewayMetricsPort),
            let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let replicas = object["replicas"] as? [[String: Any]]
        else { return 0 }
        return replicas.filter { $0["role"] as? String == role }.count
    }
}

extension EndToEndTests {
    /// The load test's own counts agree with the gateway's counters, on the echo workload.
    @Test func loadtestFiguresAgreeWithTheGatewaysCounters() throws {
        let pipeline = try LaunchedPipeline(topology: "echo.yaml")
        let report = pipeline.workingDirectory.appendingPathComponent("loadtest.json").path
        let page = pipeline.workingDirectory.appendingPathComponent("loadtest.html").path
        let run = try pipeline.run([
            "loadtest", "--topology", "Topologies/echo.yaml", "--concurrency", "8", "--requests", "300", "--warm-up",
            "0.5",
            "--workers", "3", "--json", report, "--html", page, "--allow-simulated",
        ])
        #expect(run.status == 0)
        // Three load-generating threads, one report: their figures add up to the gateway's.
        let figures = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        #expect(figures["workers"] as? Int == 3)
        #expect(figures["requests"] as? Int == 300)
        #expect(figures["results"] as? Int == 300)
        #expect(figures["errors"] as? Int == 0)
        #expect((figures["p99_ms"] as? Double ?? 0) > 0)
        #expect((figures["throughput_per_s"] as? Double ?? 0) > 0)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("Latency by percentile"))

        let gatewayMetricsPort = 9431  // Topologies/echo.yaml: basePort 9430, the broker first, then the gateway
        let status = try #require(
            try JSONSerialization.jsonObject(with: Data(HTTPStatus.fetch(port: gatewayMetricsPort).utf8))
                as? [String: Any])
        #expect(status["requests"] as? Int == figures["total_sent"] as? Int)
        #expect(status["results"] as? Int == figures["total_sent"] as? Int)
        #expect((status["errors"] as? [String: Int] ?? [:]).values.reduce(0, +) == 0)
        #expect(pipeline.stop() == 0)
    }
}
