public import Topology

/// The supervisor of one host's share of a topology, as a value: it is told what happened
/// (`Event`) and at what time, and answers what to do (`Action`). The launcher around it does
/// the I/O (fork, signals, timers); this type does none, so every path is tested with an
/// injected clock and a seeded jitter source.
///
/// Start order: a service is spawned once every dependency it has *in this supervisor* has been
/// ready once (the broker before everything that attests to it); dependencies on other hosts
/// are the other hosts' business. A crashed child is restarted after a backoff; one that
/// crashes too often in a row, or exits with a fatal code, is given up on (the launcher
/// decides whether that ends the pipeline). On shutdown nothing is restarted; children are
/// stopped in waves — the gateway first (it drains in-flight jobs through live stages), then
/// the stages, then the broker — and killed if they outlast `shutdownGrace`.
public struct SupervisorState: Sendable {
    /// How a child ended.
    public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// What happened.
    public enum Event: Sendable, Hashable {
        /// Begin: spawn what can be spawned.
        case start
        /// The process for `service` was created.
        case started(service: String)
        /// The process for `service` could not be created; counts as a crash.
        case spawnFailed(service: String, reason: String)
        /// `service` announced that it attested, got its keys and bound its endpoints.
        case ready(service: String)
        /// The process for `service` ended.
        case exited(service: String, status: ExitStatus)
        /// A restart scheduled with `scheduleRestart` is due.
        case timerFired(service: String)
        /// SIGTERM or SIGINT: drain and stop.
        case shutdown
        /// The deadline scheduled with `scheduleShutdownDeadline` passed.
        case shutdownDeadline
    }

    /// What the launcher must do, in order.
    public enum Action: Sendable, Hashable {
        case spawn(ServiceSpec)
        /// Deliver `.timerFired(service:)` after the delay.
        case scheduleRestart(service: String, after: Duration)
        /// Drop a pending restart timer (a late `.timerFired` is ignored anyway).
        case cancelRestart(service: String)
        /// Send SIGTERM: the child drains and exits. A child still being created gets it as soon
        /// as it exists (its `.started` is not needed any more).
        case terminate(service: String)
        /// Send SIGKILL.
        case kill(service: String)
        /// Deliver `.shutdownDeadline` after the delay.
        case scheduleShutdownDeadline(after: Duration)
        /// The supervisor will not restart `service` again.
        case giveUp(service: String, reason: String)
        /// Every child has ended after shutdown: the launcher exits.
        case finished
    }

    /// The supervisor as a whole.
    public enum Phase: Sendable, Hashable {
        case idle, running, draining, finished
    }

    /// One child's state.
    public enum ChildState: Sendable, Hashable {
        /// Not spawned yet: a dependency has not been ready.
        case waiting
        /// Spawn asked for; no `.started` yet.
        case spawning
        /// Running since the instant; not (yet) announced ready.
        case running(since: ContinuousClock.Instant)
        /// Running since the instant and announced ready.
        case ready(since: ContinuousClock.Instant)
        /// Crashed; a restart is scheduled.
        case restartPending
        /// SIGTERM sent during shutdown.
        case stopping(since: ContinuousClock.Instant)
        /// Given up on.
        case failed(reason: String)
        /// Ended during shutdown, or never started before it.
        case stopped
    }

    /// What `sealpipe status` shows about a child.
    public struct ChildStatus: Sendable, Hashable {
        public let service: ServiceSpec
        public let state: ChildState
        /// Restarts so far.
        public let restarts: Int
        /// Crashes in a row without a healthy run in between.
        public let consecutiveCrashes: Int
    }

    private struct Child: Sendable {
        let service: ServiceSpec
        var state: ChildState = .waiting
        var everReady = false
        var restarts = 0
        var consecutiveCrashes = 0

        var isAlive: Bool {
            switch state {
            case .spawning, .running, .ready, .stopping: true
            case .waiting, .restartPending, .failed, .stopped: false
            }
        }
    }

    public let policy: RestartPolicy
    public private(set) var phase: Phase = .idle
    private var children: [Child]
    private var random: SplitMix64

    /// `seed` feeds the restart jitter; give a random one in production, a fixed one in tests.
    public init(services: [ServiceSpec], policy: RestartPolicy = RestartPolicy(), seed: UInt64) {
        precondition(Set(services.map(\.name)).count == services.count, "service names must be unique")
        self.children = services.map { Child(service: $0) }
        self.policy = policy
        self.random = SplitMix64(seed: seed)
    }

    /// Every child, in the order given.
    public var statuses: [ChildStatus] {
        children.map {
            ChildStatus(
                service: $0.service, state: $0.state, restarts: $0.restarts, consecutiveCrashes: $0.consecutiveCrashes)
        }
    }

    /// One child's status, or `nil` for an unknown name.
    public func status(of service: String) -> ChildStatus? {
        statuses.first { $0.service.name == service }
    }

    /// Applies one event at the instant `now` and returns what to do.
    public mutating func handle(_ event: Event, at now: ContinuousClock.Instant) -> [Action] {
        switch event {
        case .start:
            guard phase == .idle else { return [] }
            phase = .running
            return spawnUnblocked()
        case .started(let name):
            guard let index = index(of: name), children[index].state == .spawning else { return [] }
            children[index].state = .running(since: now)
            return []
        case .spawnFailed(let name, let reason):
            guard let index = index(of: name) else { return [] }
            if case .stopping = children[index].state {
                children[index].state = .stopped
                return continueShutdown(at: now)
            }
            guard children[index].state == .spawning else { return [] }
            return crashed(index, runFor: .zero, cause: "could not be started: \(reason)", code: nil)
        case .ready(let name):
            guard let index = index(of: name), case .running(let since) = children[index].state else { return [] }
            children[index].state = .ready(since: since)
            children[index].everReady = true
            return phase == .running ? spawnUnblocked() : []
        case .exited(let name, let status):
            guard let index = index(of: name) else { return [] }
            return exited(index, status: status, at: now)
        case .timerFired(let name):
            guard phase == .running, let index = index(of: name), children[index].state == .restartPending else {
                return []
            }
            children[index].state = .spawning
            children[index].restarts += 1
            return [.spawn(children[index].service)]
        case .shutdown:
            return beginShutdown(at: now)
        case .shutdownDeadline:
            guard phase == .draining else { return [] }
            return children.filter(\.isAlive).map { .kill(service: $0.service.name) }
        }
    }

    // MARK: - Running

    private func index(of name: String) -> Int? {
        children.firstIndex { $0.service.name == name }
    }

    /// Spawns every waiting child whose local dependencies have all been ready once.
    private mutating func spawnUnblocked() -> [Action] {
        let local = Set(children.map(\.service.name))
        let everReady = Set(children.filter(\.everReady).map(\.service.name))
        var actions: [Action] = []
        for index in children.indices where children[index].state == .waiting {
            let blocking = children[index].service.dependencies.filter { local.contains($0) && !everReady.contains($0) }
            if blocking.isEmpty {
                children[index].state = .spawning
                actions.append(.spawn(children[index].service))
            }
        }
        return actions
    }

    private mutating func exited(_ index: Int, status: ExitStatus, at now: ContinuousClock.Instant) -> [Action] {
        let since: ContinuousClock.Instant?
        switch children[index].state {
        case .running(let start), .ready(let start): since = start
        case .spawning: since = nil
        case .stopping:
            children[index].state = .stopped
            return continueShutdown(at: now)
        case .waiting, .restartPending, .failed, .stopped:
            return []  // not alive: a stale or duplicate report
        }
        if phase == .draining {
            // It ended on its own while others drain: nothing to restart.
            children[index].state = .stopped
            return continueShutdown(at: now)
        }
        let code: Int32? = if case .exited(let code) = status { code } else { nil }
        return crashed(index, runFor: since.map { now - $0 } ?? .zero, cause: status.description, code: code)
    }

    private mutating func crashed(_ index: Int, runFor runtime: Duration, cause: String, code: Int32?) -> [Action] {
        let name = children[index].service.name
        if let code, policy.fatalExitCodes.contains(code) {
            children[index].state = .failed(reason: "\(cause), which restarting cannot fix")
            return [.giveUp(service: name, reason: "\(name) \(cause), which restarting cannot fix")]
        }
        if runtime >= policy.healthyAfter {
            children[index].consecutiveCrashes = 0
        }
        children[index].consecutiveCrashes += 1
        let crashes = children[index].consecutiveCrashes
        if crashes > policy.maxRapidCrashes {
            let reason =
                "\(name) \(cause); it crashed \(crashes) times in a row, each within "
                + "\(UnitText.format(policy.healthyAfter)) of starting"
            children[index].state = .failed(reason: reason)
            return [.giveUp(service: name, reason: reason)]
        }
        children[index].state = .restartPending
        return [.scheduleRestart(service: name, after: policy.backoff(afterCrash: crashes, unit: random.nextUnit()))]
    }

    // MARK: - Shutdown

    /// Gateway first, stages next, the broker last.
    private static func wave(of service: ServiceSpec) -> Int {
        switch service.kind {
        case .gateway: 0
        case .stage: 1
        case .keyBroker: 2
        }
    }

    private mutating func beginShutdown(at now: ContinuousClock.Instant) -> [Action] {
        switch phase {
        case .draining, .finished: return []
        case .idle, .running: break
        }
        phase = .draining
        var actions: [Action] = []
        for index in children.indices {
            switch children[index].state {
            case .restartPending:
                children[index].state = .stopped
                actions.append(.cancelRestart(service: children[index].service.name))
            case .waiting:
                children[index].state = .stopped
            default: break
            }
        }
        let next = continueShutdown(at: now)
        if next != [.finished] {
            actions.append(.scheduleShutdownDeadline(after: policy.shutdownGrace))
        }
        return actions + next
    }

    /// Terminates the earliest wave that still has live children, once no earlier wave has any;
    /// reports `.finished` when none is left.
    private mutating func continueShutdown(at now: ContinuousClock.Instant) -> [Action] {
        guard phase == .draining else { return [] }
        let alive = children.indices.filter { children[$0].isAlive }
        guard let wave = alive.map({ Self.wave(of: children[$0].service) }).min() else {
            phase = .finished
            return [.finished]
        }
        var actions: [Action] = []
        for index in alive where Self.wave(of: children[index].service) == wave {
            switch children[index].state {
            case .running, .ready, .spawning:
                children[index].state = .stopping(since: now)
                actions.append(.terminate(service: children[index].service.name))
            default: break
            }
        }
        return actions
    }
}

/// A small deterministic generator for restart jitter (SplitMix64): reproducible in tests,
/// seeded at random in production. Not for anything secret.
struct SplitMix64: Sendable {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<1.
    mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1p-53
    }
}
