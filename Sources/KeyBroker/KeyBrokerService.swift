import Foundation
public import Logging
public import ServiceLifecycle
import Sodium
import Synchronization
import Trust
public import ZeroMQ

/// The key broker on a ROUTER socket (a `BoundedRouter`, which bounds every message while it
/// arrives, since any host may connect): one request, one reply, served on its own thread so
/// that blocking socket calls never sit on the Swift concurrency pool.
///
/// Replies keep the request's envelope, so REQ and DEALER clients (and pyzmq) both work.
///
/// In a process it is a `Service` of the `ServiceGroup`: `run()` binds, tells `onListening` the
/// bound endpoint, serves on a dedicated thread, and stops on graceful shutdown or cancellation.
/// `start()`/`stop()` do the same for code that embeds a broker without a group (tests).
public final class KeyBrokerService: Service {
    public let core: KeyBrokerCore
    private let context: ZMQContext
    private let endpoint: String
    private let logger: Logger
    private let onListening: @Sendable (_ endpoint: String) -> Void
    private let state = Mutex(State())
    private let finished = DispatchSemaphore(value: 0)

    private struct State {
        var started = false
        var stopping = false
    }

    /// How long the loop waits for a request before it checks for shutdown and epoch rotation.
    static let pollInterval = Duration.milliseconds(100)

    public init(
        core: KeyBrokerCore, context: ZMQContext, endpoint: String, logger: Logger = Logger(label: "sealpipe.kms"),
        onListening: @escaping @Sendable (_ endpoint: String) -> Void = { _ in }
    ) {
        self.core = core
        self.onListening = onListening
        self.context = context
        self.endpoint = endpoint
        self.logger = logger
    }

    /// Binds, serves on a dedicated thread, and returns once graceful shutdown or cancellation
    /// has stopped the loop (the request in hand is answered first).
    public func run() async throws {
        markStarted()
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await BlockingThread.run(name: "sealpipe-kms") {
                let (socket, endpoint) = try self.bind()
                self.onListening(endpoint)
                self.serve(socket)
                socket.close()
            }
        } onCancelOrGracefulShutdown: {
            self.state.withLock { $0.stopping = true }
        }
        logger.notice("key broker stopped")
    }

    private func markStarted() {
        let alreadyStarted = state.withLock { s in
            defer { s.started = true }
            return s.started
        }
        precondition(!alreadyStarted, "KeyBrokerService started twice")
    }

    /// The broker's ROUTER socket, bound, with its limits set, and the endpoint it is bound to.
    private func bind() throws -> (BoundedRouter, String) {
        let socket = try BoundedRouter(
            context: context, limits: KMSLimits.message, maxBufferedBytes: KMSLimits.bufferBudget)
        let endpoint = try socket.bind(self.endpoint)
        logger.notice(
            "key broker listening",
            metadata: ["endpoint": "\(endpoint)", "identity": "\(Hex.encode(core.identityPublicKey.bytes))"])
        return (socket, endpoint)
    }

    /// Binds and starts serving on a thread of its own; returns the bound endpoint (with the real
    /// port for `:0`). Blocks only until the socket is bound. For embedding without a group.
    public func start() throws -> String {
        markStarted()
        let bound = Mutex<Result<String, any Error>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            let socket: BoundedRouter
            do {
                let endpoint: String
                (socket, endpoint) = try bind()
                bound.withLock { $0 = .success(endpoint) }
            } catch {
                bound.withLock { $0 = .failure(error) }
                ready.signal()
                finished.signal()
                return
            }
            ready.signal()
            serve(socket)
            socket.close()
            finished.signal()
        }
        thread.name = "sealpipe-kms"
        thread.start()
        ready.wait()
        let endpoint = try bound.withLock { $0! }.get()
        return endpoint
    }

    private func serve(_ socket: BoundedRouter) {
        var lastHousekeeping = ContinuousClock.now
        while !state.withLock({ $0.stopping }) {
            do {
                // Rotation and nonce expiry run while idle, and at least once per interval under load.
                if ContinuousClock.now - lastHousekeeping >= Self.pollInterval {
                    try core.rotateIfDue()
                    core.purgeNonces()
                    lastHousekeeping = .now
                }
                guard let events = try socket.receive(timeout: Self.pollInterval) else { continue }
                for event in events { answer(event, on: socket) }
            } catch let error as ZMQError where error.isContextTerminated {
                return
            } catch {
                logger.error("key broker loop error", metadata: ["error": "\(LogText.escaped("\(error)", limit: 256))"])
            }
        }
    }

    private func answer(_ event: BoundedRouter.Event, on socket: BoundedRouter) {
        switch event {
        case .message(let identity, let frames, let address):
            // A request is its last frame; a REQ or a DEALER may put an empty delimiter first.
            guard let payload = frames.last else { return }
            let reply = core.handle(requestBytes: payload, peer: address ?? KeyBrokerCore.localPeer)
            // Never block the loop on a peer that does not read its replies.
            _ = try? socket.send(to: identity, Array(frames.dropLast()) + [reply])
        case .discarded(let identity, let frames, _):
            // Answer (so a confused client is told) but keep nothing of the message.
            let reason = frames > KMSLimits.message.maxFrames ? "too-many-frames" : "oversize"
            let limits = "a request is at most \(KMSLimits.message.maxFrames) frames and "
            let reply = core.reject(
                reason, code: KeyBrokerCore.ErrorCode.malformedRequest, limits + "\(KMSLimits.message.maxBytes) bytes")
            if let encoded = try? reply.encoded() { _ = try? socket.send(to: identity, [[], encoded]) }
        case .closed(_, let kind, _):
            core.closedConnection(kind: kind)
        }
    }

    /// Stops taking requests and waits for the serving thread to finish the one in hand.
    public func stop() {
        let wasRunning = state.withLock { s in
            defer { s.stopping = true }
            return s.started && !s.stopping
        }
        if wasRunning { finished.wait() }
    }
}

/// Size limits on the broker's socket.
enum KMSLimits {
    /// An optional empty delimiter (REQ, or a DEALER that sends one), then the request, whose
    /// encoding is bounded (with room for a delimiter of ordinary size).
    static let message = MessageLimits(maxFrames: 2, maxBytes: KMSRequest.maximumEncodedSize + 4096)
    /// What all connections may hold of unfinished requests at once: 16 whole ones.
    static let bufferBudget = 16 * message.maxBytes
}
