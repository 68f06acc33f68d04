public import Foundation
public import Logging
public import ServiceLifecycle
import TimeUnits
public import Topology

/// Starts one host's share of a topology as child `sealpipe` processes and supervises them:
/// waits for each to announce readiness, restarts crashed ones with backoff, and on shutdown
/// stops them in waves (gateway, then stages, then the broker) so in-flight jobs drain.
///
/// All decisions come from `SupervisorState`; this class only performs its actions. Every
/// event is handled on one serial queue, so the state needs no lock.
///
/// A `Service`: `run()` starts the children and returns when the supervisor has finished;
/// graceful shutdown (or cancellation) of the launching process drains them first. It needs no
/// thread of its own: children are watched through their termination handlers on `queue`.
public final class Launcher: Service, @unchecked Sendable {
    // @unchecked Sendable: all mutable state is touched only on `queue`.
    public struct Options: Sendable {
        /// The `sealpipe` executable to run for each service.
        public var executable: URL
        /// Arguments for a service, e.g. `["node", "--topology", T, "--role", R, "--replica", "0"]`.
        public var arguments: @Sendable (ServiceSpec) -> [String]
        public var policy: RestartPolicy
        /// Extra environment for children.
        public var environment: [String: String]

        public init(
            executable: URL, arguments: @escaping @Sendable (ServiceSpec) -> [String],
            policy: RestartPolicy = RestartPolicy(),
            environment: [String: String] = [:]
        ) {
            self.executable = executable
            self.arguments = arguments
            self.policy = policy
            self.environment = environment
        }
    }

    private let options: Options
    private let services: [ServiceSpec]
    private let logger: Logger
    private let queue = DispatchQueue(label: "sealpipe.launcher")
    private var state: SupervisorState
    private var processes: [String: Process] = [:]
    private var readyOnce: Set<String> = []
    private var announcements: [String: [String: String]] = [:]
    private var allReadyReported = false
    private var gaveUp: [String: String] = [:]
    private var isFinished = false
    private var finished: CheckedContinuation<Void, Never>?
    private let onAllReady: @Sendable ([String: [String: String]]) -> Void
    private let onShutdown: @Sendable () -> Void

    /// `onAllReady` runs once, when every service has announced itself, with the announcements
    /// by service name; `onShutdown` when graceful shutdown (or cancellation) starts the drain.
    public init(
        services: [ServiceSpec], options: Options, logger: Logger,
        onAllReady: @escaping @Sendable ([String: [String: String]]) -> Void = { _ in },
        onShutdown: @escaping @Sendable () -> Void = {}
    ) {
        self.services = services
        self.options = options
        self.logger = logger
        self.onAllReady = onAllReady
        self.onShutdown = onShutdown
        self.state = SupervisorState(
            services: services, policy: options.policy, seed: UInt64.random(in: 0...UInt64.max))
    }

    /// Starts every service and supervises them until the supervisor finishes: after a drain on
    /// graceful shutdown or cancellation, or after giving up on a service (see `servicesGivenUp`).
    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                queue.async { [self] in
                    // A shutdown that came first has already finished the supervisor.
                    if isFinished {
                        continuation.resume()
                    } else {
                        finished = continuation
                        handle(.start)
                    }
                }
            }
        } onCancelOrGracefulShutdown: {
            self.onShutdown()
            self.shutdown()
        }
    }

    /// Drain and stop everything.
    public func shutdown() {
        queue.async { [self] in handle(.shutdown) }
    }

    /// The services given up on, with why: empty after a clean shutdown.
    public var servicesGivenUp: [String: String] { queue.sync { gaveUp } }

    /// The supervisor's view of each child, for status output.
    public var statuses: [SupervisorState.ChildStatus] { queue.sync { state.statuses } }

    /// Process ids of running children by service name (for tests that kill one).
    public var processIDs: [String: Int32] { queue.sync { processes.mapValues(\.processIdentifier) } }

    // MARK: - Performing actions (on `queue`)

    private func handle(_ event: SupervisorState.Event) {
        let actions = state.handle(event, at: .now)
        for action in actions { perform(action) }
    }

    private func perform(_ action: SupervisorState.Action) {
        switch action {
        case .spawn(let service):
            spawn(service)
        case .scheduleRestart(let name, let delay):
            logger.warning("restarting after backoff", metadata: ["service": "\(name)", "delay": "\(delay)"])
            queue.asyncAfter(deadline: .now() + delay.secondsValue) { [self] in handle(.timerFired(service: name)) }
        case .cancelRestart:
            break  // a late timer is ignored by the state machine
        case .terminate(let name):
            if let process = processes[name] { kill(process.processIdentifier, SIGTERM) }
        case .kill(let name):
            if let process = processes[name] { kill(process.processIdentifier, SIGKILL) }
        case .scheduleShutdownDeadline(let delay):
            queue.asyncAfter(deadline: .now() + delay.secondsValue) { [self] in handle(.shutdownDeadline) }
        case .giveUp(let name, let reason):
            gaveUp[name] = reason
            logger.error("gave up on service", metadata: ["service": "\(name)", "reason": "\(reason)"])
        case .finished:
            isFinished = true
            finished?.resume()
            finished = nil
        }
    }

    private func spawn(_ service: ServiceSpec) {
        let name = service.name
        let process = Process()
        process.executableURL = options.executable
        process.arguments = options.arguments(service)
        var environment = ProcessInfo.processInfo.environment
        environment.merge(options.environment) { $1 }
        environment["SEALPIPE_SERVICE"] = name
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        let lines = LineSplitter()
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            for line in lines.feed(data) { self?.announcementLine(line, from: name) }
        }
        process.terminationHandler = { [weak self] ended in
            let status: SupervisorState.ExitStatus =
                ended.terminationReason == .uncaughtSignal
                ? .signaled(ended.terminationStatus) : .exited(ended.terminationStatus)
            guard let launcher = self else { return }
            launcher.queue.async {
                if launcher.processes[name] === ended { launcher.processes[name] = nil }
                launcher.logger.log(
                    level: launcher.state.phase == .draining ? .info : .warning, "service ended",
                    metadata: ["service": "\(name)", "status": "\(status)"])
                launcher.handle(.exited(service: name, status: status))
            }
        }
        do {
            try process.run()
            processes[name] = process
            logger.info("started", metadata: ["service": "\(name)", "pid": "\(process.processIdentifier)"])
            handle(.started(service: name))
        } catch {
            handle(.spawnFailed(service: name, reason: "\(error)"))
        }
    }

    private func announcementLine(_ line: String, from service: String) {
        guard let data = line.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: String], object["event"] == "ready"
        else {
            // Not an announcement: a child's ordinary output, passed through.
            FileHandle.standardError.write(Data("[\(service)] \(line)\n".utf8))
            return
        }
        queue.async { [self] in
            announcements[service] = object
            readyOnce.insert(service)
            handle(.ready(service: service))
            if !allReadyReported, readyOnce.count == services.count {
                allReadyReported = true
                onAllReady(announcements)
            }
        }
    }
}

/// Splits a byte stream into lines (the announcements children print).
final class LineSplitter: @unchecked Sendable {
    // @unchecked Sendable: fed only from one file handle's readability handler at a time.
    private var pending = Data()

    func feed(_ data: Data) -> [String] {
        pending.append(data)
        var lines: [String] = []
        while let newline = pending.firstIndex(of: 0x0a) {
            lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
            pending.removeSubrange(pending.startIndex...newline)
        }
        return lines
    }
}
