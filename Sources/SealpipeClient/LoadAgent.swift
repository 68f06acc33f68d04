import Foundation
import Observability
import TimeUnits
import ZeroMQ

/// Distributed load generation: `serve` runs on each load host (`sealpipe loadtest --agent`),
/// `coordinate` on one (`sealpipe loadtest --agents host:port,…`). The coordinator gives every
/// agent an equal share of the plan at once, waits for their figures and merges them — HDR
/// histograms included — into one `LoadTestResult`, as one process merges its worker threads'.
///
/// An agent loads only the pipeline it was started for (its own topology and verified manifest)
/// and bounds what it runs (`LoadAgentMessage` limits), but anyone who can reach its port can
/// make it run plans: bind it to an address only the coordinator can reach.
public enum LoadAgent {
    /// Serves plans on `endpoint` (a ZeroMQ REP socket: one plan at a time) until `shouldStop`
    /// returns true (checked every `pollInterval`). A refused plan is answered with the reason,
    /// counted in `refused`, and the agent goes on serving.
    public static func serve(
        endpoint: String, tester: LoadTester, pollInterval: Duration = .milliseconds(200),
        onBound: (String) -> Void = { _ in }, log: (String) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws {
        let context = try ZMQContext()
        let socket = try context.socket(.reply)
        try socket.setMessageLimits(MessageLimits(maxFrames: 1, maxBytes: LoadAgentMessage.maxMessageBytes))
        try socket.setLinger(.zero)
        onBound(try socket.bind(endpoint))
        while !shouldStop() {
            guard let incoming = try socket.receiveMessage(timeout: pollInterval) else { continue }
            let answer: LoadAgentMessage.Report
            switch incoming {
            case .discarded(let frames, let bytes):
                answer = refusal(
                    .refused(
                        "a plan of \(frames) frame(s) and \(bytes) bytes (one frame of at most "
                            + "\(LoadAgentMessage.maxMessageBytes) bytes allowed)"), log: log)
            case .message(let frames):
                answer = run(frames[0], tester: tester, log: log)
            }
            _ = try socket.send(LoadAgentMessage.encode(answer))
        }
    }

    private static func refusal(_ error: LoadAgentError, log: (String) -> Void) -> LoadAgentMessage.Report {
        log("refused a plan: \(error)")
        return LoadAgentMessage.Report(version: LoadAgentMessage.version, error: "\(error)", figures: nil)
    }

    private static func run(_ bytes: [UInt8], tester: LoadTester, log: (String) -> Void) -> LoadAgentMessage.Report {
        let plan: LoadTestPlan
        let workers: Int
        do throws(LoadAgentError) {
            (plan, workers) = try LoadAgentMessage.decode(LoadAgentMessage.Plan.self, from: bytes, what: "plan")
                .validated()
        } catch {
            return refusal(error, log: log)
        }
        log("running a plan on \(workers) worker(s)")
        let cpuAtStart = ProcessMetrics.cpuSeconds()
        do {
            let tally = try tester.runTally(plan, workers: workers)
            let figures = LoadAgentMessage.Figures(
                tally, clientCPUSeconds: ProcessMetrics.cpuSeconds() - cpuAtStart, workers: workers)
            log("plan done: \(tally.results) results, \(tally.errors) errors")
            return LoadAgentMessage.Report(version: LoadAgentMessage.version, error: nil, figures: figures)
        } catch {
            log("plan failed: \(error)")
            return LoadAgentMessage.Report(
                version: LoadAgentMessage.version, error: "the run failed: \(error)", figures: nil)
        }
    }

    /// Runs `plan` across `agents` (ZeroMQ endpoints such as `tcp://10.0.0.2:5700`), each an
    /// equal share (`LoadTestPlan.share`) on `workersPerAgent` threads, and merges their figures.
    /// Throws naming the agent when one does not answer in time, refuses, or answers malformed.
    public static func coordinate(_ plan: LoadTestPlan, agents: [String], workersPerAgent: Int) throws
        -> LoadTestResult
    {
        precondition(!agents.isEmpty, "a coordinator needs at least one agent")
        let context = try ZMQContext()
        var sockets: [Socket] = []
        for (index, agent) in agents.enumerated() {
            let socket = try context.socket(.request)
            try socket.setMessageLimits(MessageLimits(maxFrames: 1, maxBytes: LoadAgentMessage.maxMessageBytes))
            try socket.setLinger(.zero)
            try socket.connect(agent)
            let share = LoadAgentMessage.Plan(plan.share(worker: index, of: agents.count), workers: workersPerAgent)
            _ = try socket.send(LoadAgentMessage.encode(share))
            sockets.append(socket)
        }
        let measuredFrom = ContinuousClock.now + plan.warmUp
        // How long a run may take: the warm-up, then the duration (or, for a request count, the
        // job timeout per job in the worst case is unbounded: allow an hour), the last job's timeout.
        let runFor = plan.warmUp + (plan.duration ?? .seconds(3600)) + plan.jobTimeout + .seconds(30)
        let deadline = ContinuousClock.now + runFor
        var merged: LoadTestTally?
        var cpuSeconds = 0.0
        var workers = 0
        for (agent, socket) in zip(agents, sockets) {
            let remaining = max(.milliseconds(1), ContinuousClock.now.duration(to: deadline))
            guard let incoming = try socket.receiveMessage(timeout: remaining) else {
                throw LoadAgentError.agent(agent, "no answer within \(remaining)")
            }
            guard case .message(let frames) = incoming else {
                throw LoadAgentError.agent(agent, "an answer over \(LoadAgentMessage.maxMessageBytes) bytes")
            }
            let tally: LoadTestTally
            do throws(LoadAgentError) {
                let report = try LoadAgentMessage.decode(LoadAgentMessage.Report.self, from: frames[0], what: "report")
                if let error = report.error { throw LoadAgentError.agent(agent, error) }
                guard report.version == LoadAgentMessage.version, let figures = report.figures else {
                    throw LoadAgentError.agent(agent, "a report without figures, or of another protocol version")
                }
                tally = try figures.tally(measuredFrom: measuredFrom)
                cpuSeconds += figures.clientCPUSeconds
                workers += figures.workers
            } catch {
                if case .refused(let reason) = error { throw LoadAgentError.agent(agent, reason) }
                throw error
            }
            if merged == nil { merged = tally } else { merged!.merge(tally) }
        }
        return LoadTestResult(plan: plan, workers: workers, tally: merged!, clientCPUSeconds: cpuSeconds)
    }
}
