import Foundation
public import Logging
public import ServiceLifecycle
import Synchronization
import Wire
import ZeroMQ

/// Runs a `GatewayCore` behind two ROUTER sockets: the front (clients, a `BoundedRouter`, which
/// bounds every message while it arrives) and the backend (stage replicas, libzmq's ROUTER). The loop owns the sockets on its own thread; other threads only read snapshots
/// and ask it to drain.
///
/// As a `Service` of a `ServiceGroup`, it runs its loop on a dedicated thread and drains on
/// graceful shutdown (or cancellation): in-flight jobs finish, then `run()` returns.
public final class GatewayService: Service {
    public let configuration: GatewayConfiguration
    private let frontEndpoint: String
    private let backendEndpoint: String
    private let logger: Logger
    private let onBound: @Sendable (_ front: String, _ backend: String) -> Void
    private let stopRequested = Atomic<Bool>(false)
    private let state: Mutex<GatewaySnapshot>

    /// The largest message a backend peer may send before it proves an attested role: an
    /// announcement (certificate, epochs, signature) is a few hundred bytes.
    static let unprovenPeerBytes = 64 << 10

    /// The least the front may hold of unfinished client messages, over all connections.
    static let minimumFrontBudget = 64 << 20

    /// How often the loop wakes to check deadlines and heartbeats when idle.
    static let tickInterval: Duration = .milliseconds(20)

    /// `onBound` is told the bound endpoints (real ports for `:0`) when `run()` has bound both sockets.
    public init(
        configuration: GatewayConfiguration, frontEndpoint: String, backendEndpoint: String, logger: Logger,
        onBound: @escaping @Sendable (_ front: String, _ backend: String) -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.onBound = onBound
        self.frontEndpoint = frontEndpoint
        self.backendEndpoint = backendEndpoint
        self.logger = logger
        self.state = Mutex(
            GatewaySnapshot(
                counters: GatewayCounters(), replicas: [], queueDepths: [:], jobsInFlight: 0, draining: false))
    }

    /// The latest counters and replica table.
    public var snapshot: GatewaySnapshot { state.withLock { $0 } }

    /// Stop taking jobs, finish those in flight, then return from `run`.
    public func drain() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Serves on a dedicated thread until drained; graceful shutdown or cancellation drains it.
    public func run() async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await BlockingThread.run(name: "gateway") { try self.run(onBound: self.onBound) }
        } onCancelOrGracefulShutdown: {
            self.drain()
        }
    }

    /// Binds both sockets, reports the bound endpoints, and serves until drained. Blocking:
    /// call it on a thread of its own.
    public func run(onBound: (_ front: String, _ backend: String) -> Void) throws {
        let context = try ZMQContext()
        // Every message is bounded as a whole while it arrives: both sides are open to any host
        // (replicas prove their role only in their announcements), so each reads ZMTP itself
        // (`BoundedRouter`) and lets go of a message at the frame that breaks its bound, where
        // libzmq's ROUTER would hold all of it first. The front keeps room above the payload
        // limit so a slightly long request is answered `tooLarge`. What all connections of a side
        // hold of unfinished messages is within a budget of a few whole ones (at least 64 MiB on
        // the front): a flood of half-sent messages closes the connections holding the most.
        let frontLimits = MessageLimits(
            maxFrames: PipelineMessage.maximumFrameCount, maxBytes: configuration.maxPayloadBytes * 2 + 4096)
        let front = try BoundedRouter(
            context: context, limits: frontLimits,
            maxBufferedBytes: max(Self.minimumFrontBudget, 4 * frontLimits.maxBytes))
        // A backend peer sends small messages (its announcements) until it has proven an attested
        // role; only then may it send hops up to the hop limit. An unproven peer's large message
        // is cut off at its first frame's header, never read.
        let hopLimits = MessageLimits(maxFrames: PipelineMessage.maximumFrameCount, maxBytes: configuration.maxHopBytes)
        let backend = try BoundedRouter(
            context: context,
            limits: MessageLimits(maxFrames: PipelineMessage.maximumFrameCount, maxBytes: Self.unprovenPeerBytes),
            maxBufferedBytes: 2 * configuration.maxHopBytes)
        let boundFront = try front.bind(frontEndpoint)
        let boundBackend = try backend.bind(backendEndpoint)
        onBound(boundFront, boundBackend)
        logger.info("gateway serving", metadata: ["front": "\(boundFront)", "backend": "\(boundBackend)"])

        var core = GatewayCore(configuration: configuration)
        let poller = Poller()
        poller.add(front.socket)
        poller.add(backend.socket)
        // Finding overdue jobs and silent replicas is a pass over every one of them: under load it
        // runs once per tick interval, not once per burst of messages.
        var lastHousekeeping = ContinuousClock.now - Self.tickInterval
        // Refusals are logged as one line per class per interval with a count, not one per message.
        var warnings = GatewayWarnings()
        var reported = core.counters
        while true {
            if stopRequested.load(ordering: .relaxed) && !core.isDraining {
                core.beginDraining()
                logger.info("gateway draining", metadata: ["in_flight": "\(core.jobsInFlight)"])
            }
            if core.isDrained { break }
            let ready = try poller.poll(timeout: Self.tickInterval)
            var actions: [GatewayAction] = []
            // Take a bounded burst from each socket so neither side starves the other.
            if ready[0].contains(.readable) {
                for _ in 0..<256 {
                    guard let events = try front.receive() else { break }
                    for event in events {
                        switch event {
                        case .message(let identity, let frames, let address):
                            guard !frames.isEmpty else { continue }
                            actions += core.clientMessage(
                                identity: identity, frames: frames, peerAddress: address, now: Self.nowMillis())
                        case .discarded: core.discardedMessage(fromClient: true)
                        case .closed(_, let reason, _): core.closedClient(reason: reason)
                        }
                    }
                }
            }
            if ready[1].contains(.readable) {
                for _ in 0..<256 {
                    guard let events = try backend.receive() else { break }
                    for event in events {
                        switch event {
                        case .message(let identity, let frames, _):
                            guard !frames.isEmpty else { continue }
                            actions += core.replicaMessage(identity: identity, frames: frames, now: Self.nowMillis())
                            if core.isReplica(identity) && backend.limits(of: identity) != hopLimits {
                                backend.setLimits(hopLimits, of: identity)
                            }
                        case .discarded: core.discardedMessage(fromClient: false)
                        case .closed(_, let reason, _): core.closedReplicaConnection(reason: reason)
                        }
                    }
                }
            }
            let idle = !ready[0].contains(.readable) && !ready[1].contains(.readable)
            let due = ContinuousClock.now - lastHousekeeping >= Self.tickInterval
            if due || idle {
                actions += core.tick(now: Self.nowMillis())
                lastHousekeeping = .now
            }
            for action in actions where !perform(action, front: front, backend: backend) {
                warnings.sampler.record("send_failed")
            }
            publish(core)
            warnings.record(since: reported, now: core.counters)
            reported = core.counters
            for line in warnings.sampler.due(now: .now) {
                logger.warning(
                    "gateway errors and refusals", metadata: ["class": "\(line.kind)", "count": "\(line.count)"])
            }
        }
        publish(core)
        logger.info(
            "gateway drained",
            metadata: ["results": "\(core.counters.results)", "errors": "\(core.counters.totalErrors)"])
    }

    /// Sends what the core asked for; false if the send failed.
    private func perform(_ action: GatewayAction, front: BoundedRouter, backend: BoundedRouter) -> Bool {
        do {
            switch action {
            case .toClient(let identity, let frames):
                // A client that went away must not stall the gateway: never block on it.
                return try front.send(to: identity, frames)
            case .toReplica(let identity, let frames):
                return try backend.send(to: identity, frames)
            }
        } catch {
            // The job stays tracked: a vanished replica is buried and its hops retried by tick.
            return false
        }
    }

    private func publish(_ core: GatewayCore) {
        let snapshot = GatewaySnapshot(
            counters: core.counters, replicas: core.replicaStatus, queueDepths: core.queueDepths,
            jobsInFlight: core.jobsInFlight, draining: core.isDraining)
        state.withLock { $0 = snapshot }
    }

    static func nowMillis() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1000)
    }
}

/// A consistent copy of the gateway's state for metrics and status.
public struct GatewaySnapshot: Sendable {
    public var counters: GatewayCounters
    public var replicas: [ReplicaStatus]
    public var queueDepths: [String: Int]
    public var jobsInFlight: Int
    public var draining: Bool
}
