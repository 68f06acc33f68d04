import Foundation
public import Logging
public import ServiceLifecycle
import Sodium
import Synchronization
import Trust
public import ZeroMQ

/// The key broker on a ZeroMQ ROUTER socket: one request, one reply, served on its own
/// thread so that blocking socket calls never sit on the Swift concurrency pool.
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
    private func bind() throws -> (Socket, String) {
        let socket = try context.socket(.router)
        try socket.setMaximumMessageSize(Int64(KMSLimits.maximumFrameSize))
        try socket.setReceiveHighWaterMark(KMSLimits.receiveHighWaterMark)
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
            let socket: Socket
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

    private func serve(_ socket: Socket) {
        while !state.withLock({ $0.stopping }) {
            do {
                guard
                    let message = try socket.receive(
                        timeout: Self.pollInterval, maximumFrames: KMSLimits.maximumFrames,
                        maximumBytes: KMSLimits.maximumMessageBytes)
                else {
                    try core.rotateIfDue()
                    core.purgeNonces()
                    continue
                }
                let frames = message.frames
                if let excess = message.excess {
                    // Answer (so a confused client is told) but keep nothing of the message.
                    let reason: String
                    switch excess {
                    case .tooManyFrames: reason = "too-many-frames"
                    case .tooLarge: reason = "oversize"
                    }
                    let limits = "a request is at most \(KMSLimits.maximumFrames - 1) frames and "
                    let reply = core.reject(
                        reason, code: KeyBrokerCore.ErrorCode.malformedRequest,
                        limits + "\(KMSLimits.maximumMessageBytes) bytes")
                    if let routingID = frames.first, let encoded = try? reply.encoded() {
                        _ = try socket.send([routingID, [], encoded], dontWait: true)
                    }
                    continue
                }
                guard frames.count >= 2, let payload = frames.last else { continue }
                let peer = message.peerAddress ?? KeyBrokerCore.localPeer
                let reply = core.handle(requestBytes: payload, peer: peer)
                // Never block the loop on a peer that does not read its replies.
                _ = try socket.send(Array(frames.dropLast()) + [reply], dontWait: true)
            } catch let error as ZMQError where error.isContextTerminated {
                return
            } catch {
                logger.error("key broker loop error", metadata: ["error": "\(LogText.escaped("\(error)", limit: 256))"])
            }
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
    /// Larger frames are dropped by libzmq before they reach the broker.
    static let maximumFrameSize = (1 << 20) + 4096
    /// Routing id, an optional empty delimiter (REQ, or a DEALER that sends one), the request.
    static let maximumFrames = 3
    /// The request and a routing id and delimiter of ordinary size.
    static let maximumMessageBytes = KMSRequest.maximumEncodedSize + 4096
    /// Messages libzmq queues per connection before it stops reading that peer: with the
    /// frame limit, at most ~16 MiB held for any one connection however fast it sends.
    static let receiveHighWaterMark = 16
}
