internal import CZeroMQ
import TimeUnits

/// One libzmq socket with a single owner.
///
/// libzmq sockets are not thread-safe, so a `Socket` is not `Sendable`: make it on the thread
/// that uses it. Every message is moved through `zmq_msg_t`, so a frame of any size arrives
/// whole. Closing (explicitly or on release) never waits: linger is 0 unless set otherwise.
/// Incoming messages are bounded by `messageLimits` (16 frames unless set otherwise).
public final class Socket {
    /// Keeps the context alive for as long as this socket exists.
    public let context: ZMQContext
    public let kind: SocketKind
    var handle: UnsafeMutableRawPointer?
    /// What one incoming message may hold; beyond it the message is drained and discarded.
    public internal(set) var messageLimits = MessageLimits.default
    /// Incoming messages discarded for exceeding `messageLimits` since the socket was made.
    public private(set) var discardedMessages = 0

    init(context: ZMQContext, kind: SocketKind) throws(ZMQError) {
        guard let handle = zmq_socket(context.handle, kind.rawType) else {
            throw ZMQError(call: "zmq_socket", errno: zmq_errno())
        }
        self.context = context
        self.kind = kind
        self.handle = handle
        try setOption(ZMQ_LINGER, Int32(0), "linger")
    }

    deinit { close() }

    /// Closes the socket, dropping unsent messages (per linger). Safe to call twice.
    public func close() {
        if let handle {
            _ = zmq_close(handle)
            self.handle = nil
        }
    }

    public var isClosed: Bool { handle == nil }

    func liveHandle(_ call: String) throws(ZMQError) -> UnsafeMutableRawPointer {
        guard let handle else { throw ZMQError(call: call, errno: ENOTSOCK) }
        return handle
    }

    // MARK: Endpoints

    /// Binds and returns the endpoint actually bound (a `tcp://…:*` wildcard port resolved),
    /// which is what a service announces.
    @discardableResult
    public func bind(_ endpoint: String) throws(ZMQError) -> String {
        let handle = try liveHandle("zmq_bind")
        try zmqCall("zmq_bind(\(endpoint))") { zmq_bind(handle, endpoint) }
        return try lastEndpoint()
    }

    public func connect(_ endpoint: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_connect")
        try zmqCall("zmq_connect(\(endpoint))") { zmq_connect(handle, endpoint) }
    }

    public func disconnect(_ endpoint: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_disconnect")
        try zmqCall("zmq_disconnect(\(endpoint))") { zmq_disconnect(handle, endpoint) }
    }

    public func unbind(_ endpoint: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_unbind")
        try zmqCall("zmq_unbind(\(endpoint))") { zmq_unbind(handle, endpoint) }
    }

    /// The last endpoint bound or connected (`ZMQ_LAST_ENDPOINT`).
    public func lastEndpoint() throws(ZMQError) -> String {
        let handle = try liveHandle("zmq_getsockopt")
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        try zmqCall("zmq_getsockopt(last_endpoint)") { zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: Sending

    /// Sends one multipart message. With `dontWait`, returns `false` instead of blocking when
    /// the high-water mark is reached (nothing of the message is sent then).
    @discardableResult
    public func send(_ frames: [[UInt8]], dontWait: Bool = false) throws(ZMQError) -> Bool {
        precondition(!frames.isEmpty, "a message has at least one frame")
        let handle = try liveHandle("zmq_msg_send")
        for (index, frame) in frames.enumerated() {
            var flags: Int32 = index < frames.count - 1 ? ZMQ_SNDMORE : 0
            if dontWait { flags |= ZMQ_DONTWAIT }
            do {
                try sendFrame(frame, handle: handle, flags: flags)
            } catch {
                // libzmq queues a multipart message atomically: if the first frame would block,
                // nothing was queued, so the caller may retry the whole message.
                if error.isWouldBlock && index == 0 { return false }
                throw error
            }
        }
        return true
    }

    /// Sends one single-frame message.
    @discardableResult
    public func send(_ frame: [UInt8], dontWait: Bool = false) throws(ZMQError) -> Bool {
        try send([frame], dontWait: dontWait)
    }

    private func sendFrame(_ frame: [UInt8], handle: UnsafeMutableRawPointer, flags: Int32) throws(ZMQError) {
        var message = zmq_msg_t()
        try zmqCall("zmq_msg_init_size") { zmq_msg_init_size(&message, frame.count) }
        if !frame.isEmpty {
            frame.withUnsafeBytes { source in
                zmq_msg_data(&message).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
        }
        do {
            try zmqCall("zmq_msg_send") { zmq_msg_send(&message, handle, flags) }
        } catch {
            zmq_msg_close(&message)  // ownership stays with us only when the send failed
            throw error
        }
    }

    // MARK: Receiving

    /// Receives one multipart message within `messageLimits`, waiting at most `timeout` (forever
    /// when `nil`). Returns `nil` when the timeout passes first. A message over the limits is
    /// drained frame by frame, never copied whole, and reported as `.discarded`.
    public func receiveMessage(timeout: Duration? = nil) throws(ZMQError) -> IncomingMessage? {
        let handle = try liveHandle("zmq_msg_recv")
        if let timeout {
            guard try waitForInput(timeout: timeout) else { return nil }
        }
        let limits = messageLimits
        var frames: [[UInt8]] = []
        var frameCount = 0
        var byteCount = 0
        var withinLimits = true
        repeat {
            try receiveFrame(handle: handle) { bytes in
                frameCount += 1
                byteCount += bytes.count
                guard withinLimits else { return }
                if frameCount <= limits.maxFrames && byteCount <= limits.maxBytes {
                    frames.append(Array(bytes))
                } else {
                    withinLimits = false
                    frames = []  // let go of what was copied at once; the rest is never copied
                }
            }
        } while try hasMoreFrames(handle: handle)
        guard withinLimits else {
            discardedMessages += 1
            return .discarded(frames: frameCount, bytes: byteCount)
        }
        return .message(frames)
    }

    /// Receives one whole multipart message within `messageLimits`, waiting at most `timeout`
    /// (forever when `nil`); messages over the limits are skipped (and counted in
    /// `discardedMessages`). Returns `nil` when the timeout passes first.
    public func receive(timeout: Duration? = nil) throws(ZMQError) -> [[UInt8]]? {
        let deadline = timeout.map { ContinuousClock.now + $0 }
        while true {
            let remaining = deadline.map { max(.zero, $0 - ContinuousClock.now) }
            switch try receiveMessage(timeout: remaining) {
            case nil: return nil
            case .message(let frames): return frames
            case .discarded: continue
            }
        }
    }

    /// Receives a message only if one is already waiting.
    public func receiveIfReady() throws(ZMQError) -> [[UInt8]]? {
        try receive(timeout: .zero)
    }

    private func waitForInput(timeout: Duration) throws(ZMQError) -> Bool {
        let handle = try liveHandle("zmq_poll")
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let milliseconds = Int(timeout.roundedUpMilliseconds)
        let ready = try zmqCall("zmq_poll") { zmq_poll(&item, 1, milliseconds) }
        return ready > 0
    }

    /// Receives one frame and lends its bytes to `body` without copying them; libzmq's buffer is
    /// released as soon as `body` returns.
    private func receiveFrame(
        handle: UnsafeMutableRawPointer, _ body: (UnsafeRawBufferPointer) -> Void
    ) throws(ZMQError) {
        var message = zmq_msg_t()
        try zmqCall("zmq_msg_init") { zmq_msg_init(&message) }
        defer { zmq_msg_close(&message) }
        let size = try zmqCall("zmq_msg_recv") { zmq_msg_recv(&message, handle, 0) }
        let count = Int(size)
        guard count > 0, let data = zmq_msg_data(&message) else {
            return body(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        body(UnsafeRawBufferPointer(start: data, count: count))
    }

    private func hasMoreFrames(handle: UnsafeMutableRawPointer) throws(ZMQError) -> Bool {
        var more: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try zmqCall("zmq_getsockopt(rcvmore)") { zmq_getsockopt(handle, ZMQ_RCVMORE, &more, &size) }
        return more != 0
    }
}
