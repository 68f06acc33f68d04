import Foundation
import SealpipeClient
import Synchronization
import Testing
import ZeroMQ

extension EndToEndTests {
    /// The echo pipeline on ports of its own (5650-5656, metrics 9550-9555), so this test runs
    /// beside the shipped topologies' users.
    static let agentsTopology = """
        name: echo-agents
        model: {kind: echo}
        kms: {endpoint: "tcp://127.0.0.1:5650"}
        gateway: {front: "tcp://127.0.0.1:5655", backend: "tcp://127.0.0.1:5656"}
        metrics: {basePort: 9550}
        stages:
          - {name: preprocessor, kind: echo}
          - {name: shard-0, kind: echo}
          - {name: shard-1, kind: echo}
          - {name: postprocessor, kind: echo}
        """

    /// A coordinator and two load agents on localhost drive one launched echo pipeline: the
    /// merged report counts exactly the jobs the two agents answered, and its histogram holds
    /// every one of them; a malformed plan sent to a live agent is refused by name, and the
    /// agent goes on serving.
    @Test func aCoordinatorMergesTwoAgentsIntoOneReport() throws {
        let pipeline = try LaunchedPipeline(topology: "echo-agents.yaml", contents: Self.agentsTopology)
        let target = try pipeline.verifiedTarget(
            stateDirectory: "echo-agents", keyBroker: "tcp://127.0.0.1:5650", front: "tcp://127.0.0.1:5655")
        let stop = Atomic<Bool>(false)
        let agentLines = Mutex<[String]>([])
        let done = DispatchGroup()
        for port in [5660, 5661] {
            done.enter()
            Thread {
                defer { done.leave() }
                do {
                    try LoadAgent.serve(
                        endpoint: "tcp://127.0.0.1:\(port)", tester: LoadTester(target: target),
                        pollInterval: .milliseconds(50), log: { line in agentLines.withLock { $0.append(line) } },
                        shouldStop: { stop.load(ordering: .relaxed) })
                } catch {
                    agentLines.withLock { $0.append("agent on \(port) failed: \(error)") }
                }
            }.start()
        }
        defer {
            stop.store(true, ordering: .relaxed)
            done.wait()
        }

        let plan = LoadTestPlan(
            mode: .closedLoop(concurrency: 8), warmUp: .zero, duration: nil, requests: 301,
            bodies: [Array("one".utf8), Array("two".utf8)], jobTimeout: .seconds(30))
        let result = try LoadAgent.coordinate(
            plan, agents: ["tcp://127.0.0.1:5660", "tcp://127.0.0.1:5661"], workersPerAgent: 2)

        // Each agent said how many results it had; the merged report holds their sum.
        let perAgent = agentLines.withLock { $0 }.compactMap { line -> Int? in
            guard line.hasPrefix("plan done: ") else { return nil }
            return Int(line.dropFirst("plan done: ".count).prefix { $0.isNumber })
        }
        #expect(perAgent.count == 2)
        #expect(perAgent.sorted() == [150, 151])
        #expect(result.results == perAgent.reduce(0, +))
        #expect(result.results == 301)
        #expect(result.errors == 0)
        #expect(result.requests == 301)
        #expect(result.workers == 4)
        #expect(result.percentiles.last!.milliseconds > 0)

        // A live agent refuses what is not a plan, naming why, and serves the next plan.
        let context = try ZMQContext()
        let socket = try context.socket(.request)
        try socket.setLinger(.zero)
        try socket.connect("tcp://127.0.0.1:5660")
        _ = try socket.send(Array(#"{"version": 1, "mode": "closed-loop", "concurrency": "many"}"#.utf8))
        guard case .message(let frames) = try #require(try socket.receiveMessage(timeout: .seconds(10))) else {
            Issue.record("no answer from the agent")
            return
        }
        let answer = String(decoding: frames[0], as: UTF8.self)
        #expect(answer.contains("wrong type at concurrency"))
        let again = try LoadAgent.coordinate(
            LoadTestPlan(
                mode: .closedLoop(concurrency: 2), warmUp: .zero, duration: nil, requests: 10, bodies: [[1]],
                jobTimeout: .seconds(30)), agents: ["tcp://127.0.0.1:5660"], workersPerAgent: 1)
        #expect(again.results == 10)
    }
}
