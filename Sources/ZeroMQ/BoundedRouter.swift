internal import CZeroMQ

/// A ROUTER for untrusted peers whose every message is bounded while it arrives.
///
/// It binds a libzmq STREAM socket and speaks ZMTP itself (`ZMTPSession`), so DEALER and REQ
/// clients connect to it as to any ROUTER, but no message is assembled past `limits`: libzmq's
/// own ROUTER would hold a message of very many legal frames whole before anyone could read it.
/// Over all connections, what is held of unfinished messages stays under `maxBufferedBytes`
/// (the connections holding the most are closed first when it would not), and at most
/// `maxConnections` peers are served at once. A peer that breaks the protocol is disconnected
/// and reported; its bytes are never echoed anywhere.
///
/// A peer is named, in events and sends, by the routing id it asked for (a DEALER's
/// `ZMQ_ROUTING_ID`), or else by one made up here (starting with a zero byte, as libzmq's). A
/// second connection asking for a name in use is refused, as libzmq's ROUTER does.
///
/// Owned by one thread, like `Socket`. Poll `socket` for input, then call `receive()` until it
/// returns nil.
public final class BoundedRouter {
    /// What one read off the wire produced.
    public enum Event: Sendable, Equatable {
        /// A whole message within the limits, from the connection `identity`.
        case message(identity: [UInt8], frames: [[UInt8]], peerAddress: String?)
        /// A message over the limits, let go of as it arrived; its size as sent.
        case discarded(identity: [UInt8], frames: Int, bytes: UInt64)
        /// A connection this socket closed, and why (`kind` is one of a fixed set of names).
        case closed(identity: [UInt8], kind: String, detail: String)
    }

    /// The STREAM socket underneath: poll it for `.readable`.
    public let socket: Socket
    /// The bound on one message of a new connection (`setLimits` changes it per connection).
    public let limits: MessageLimits
    public let maxBufferedBytes: Int
    public let maxConnections: Int

    private struct Connection {
        var session: ZMTPSession
        var peerAddress: String?
        var buffered = 0
        /// What the caller knows it by, once its handshake completed.
        var name: [UInt8]?
    }

    /// By the STREAM socket's id for the connection.
    private var connections: [[UInt8]: Connection] = [:]
    /// The STREAM id of each named connection.
    private var streamIDs: [[UInt8]: [UInt8]] = [:]
    private var bufferedBytes = 0
    /// Connections this socket closed, most recent last: libzmq may still report their end,
    /// which must not be taken for a new connection. Bounded; ids are never reused.
    private var recentlyClosed: Set<[UInt8]> = []
    private var closedOrder: [[UInt8]] = []
    private static let recentlyClosedCapacity = 4096
    /// One read of a STREAM socket is at most libzmq's input batch (8 KiB by default).
    private static let chunkLimit = 1 << 16

    /// Connections being served now.
    public var connectionCount: Int { connections.count }
    /// Bytes held now for unfinished messages over all connections.
    public var heldBytes: Int { bufferedBytes }
    /// The most ever held at once (for tests and the soak).
    public private(set) var peakHeldBytes = 0

    /// `limits` bound one message (its frames, without the routing id the caller sees).
    public init(
        context: ZMQContext, limits: MessageLimits, maxBufferedBytes: Int = 256 << 20, maxConnections: Int = 4096
    ) throws(ZMQError) {
        precondition(maxBufferedBytes > 0 && maxConnections > 0, "a router serves at least one connection")
        socket = try Socket(context: context, kind: .stream)
        self.limits = limits
        self.maxBufferedBytes = maxBufferedBytes
        self.maxConnections = maxConnections
        try socket.setOption(ZMQ_STREAM_NOTIFY, 1, "stream_notify")
        // Chunks waiting in libzmq for one connection: 64 × 8 KiB at most, read promptly.
        try socket.setReceiveHighWaterMark(64)
        try socket.setSendHighWaterMark(100_000)
    }

    @discardableResult
    public func bind(_ endpoint: String) throws(ZMQError) -> String { try socket.bind(endpoint) }

    public func close() { socket.close() }

    /// Reads one chunk a peer sent, waiting at most `timeout` for it, and returns what it
    /// completed (often nothing); nil when nothing came.
    public func receive(timeout: Duration = .zero) throws(ZMQError) -> [Event]? {
        guard let read = try socket.receive(timeout: timeout, maximumFrames: 2, maximumBytes: Self.chunkLimit) else {
            return nil
        }
        guard read.excess == nil, read.frames.count == 2 else { return [] }  // not a STREAM read: cannot happen
        let identity = read.frames[0]
        let chunk = read.frames[1]
        guard connections[identity] != nil else {
            return chunk.isEmpty ? try opened(identity, peerAddress: read.peerAddress) : []
        }
        if chunk.isEmpty {  // the peer went away
            forget(identity)
            return []
        }
        let produced: [ZMTPSession.Event]
        do {
            // In place: a copy of the connection would share the session's input buffer, and
            // appending the chunk would then copy all that is buffered, for every 8 KiB chunk of a
            // large message (a 500 KB bundle of hidden states was copied ~60 times).
            produced = try connections[identity]!.session.receive(chunk)
        } catch {
            return [close(identity, kind: error.kind, detail: error.detail)]
        }
        var connection = connections[identity]!
        if connection.peerAddress == nil { connection.peerAddress = read.peerAddress }
        if connection.name == nil && connection.session.isReady {
            let name = connection.session.requestedIdentity ?? identity
            guard streamIDs[name] == nil else {
                return [close(identity, kind: "identity_in_use", detail: "another connection has its routing id")]
            }
            connection.name = name
            streamIDs[name] = identity
        }
        var events: [Event] = []
        for event in produced {
            switch event {
            case .reply(let bytes):
                guard try write(bytes, to: identity) else {
                    connections[identity] = connection
                    return events + [close(identity, kind: "slow_peer", detail: "its send queue is full")]
                }
            case .message(let frames):
                let name = connection.name ?? identity
                events.append(.message(identity: name, frames: frames, peerAddress: connection.peerAddress))
            case .discarded(let frames, let bytes):
                events.append(.discarded(identity: connection.name ?? identity, frames: frames, bytes: bytes))
            }
        }
        bufferedBytes += connection.session.bufferedBytes - connection.buffered
        connection.buffered = connection.session.bufferedBytes
        connections[identity] = connection
        peakHeldBytes = max(peakHeldBytes, bufferedBytes)
        return events + evictOverBudget()
    }

    /// The bound on one message from the connection named `identity` (nil if none is), which
    /// starts as `limits`.
    public func limits(of identity: [UInt8]) -> MessageLimits? {
        streamIDs[identity].flatMap { connections[$0]?.session.limits }
    }

    /// Changes the bound on the messages the connection named `identity` begins from now on: a
    /// socket can take small messages from anyone and large ones only from peers that proved
    /// who they are. False if no connection has that name.
    @discardableResult
    public func setLimits(_ limits: MessageLimits, of identity: [UInt8]) -> Bool {
        guard let streamID = streamIDs[identity] else { return false }
        connections[streamID]?.session.limits = limits
        return true
    }

    /// Sends one message to a connection; false when its queue is full (nothing sent). Throws
    /// `EHOSTUNREACH` for a connection that is gone.
    @discardableResult
    public func send(to identity: [UInt8], _ frames: [[UInt8]]) throws(ZMQError) -> Bool {
        guard let streamID = streamIDs[identity] else { throw ZMQError(call: "zmq_msg_send", errno: EHOSTUNREACH) }
        return try write(ZMTPSession.encode(frames), to: streamID)
    }

    private func write(_ bytes: [UInt8], to identity: [UInt8]) throws(ZMQError) -> Bool {
        try socket.send([identity, bytes], dontWait: true)
    }

    private func opened(_ identity: [UInt8], peerAddress: String?) throws(ZMQError) -> [Event] {
        guard !recentlyClosed.contains(identity) else { return [] }  // the end of one we closed
        guard connections.count < maxConnections else {
            return [close(identity, kind: "too_many_connections", detail: "\(maxConnections) are served at once")]
        }
        connections[identity] = Connection(session: ZMTPSession(limits: limits), peerAddress: peerAddress)
        do {
            guard try write(ZMTPSession.greeting, to: identity) else {
                return [close(identity, kind: "slow_peer", detail: "its send queue is full")]
            }
        } catch  where error.isHostUnreachable {
            forget(identity)  // gone before it was greeted
        }
        return []
    }

    /// Closes the connections holding the most until what all hold is within the budget.
    private func evictOverBudget() -> [Event] {
        var events: [Event] = []
        while bufferedBytes > maxBufferedBytes,
            let largest = connections.max(by: { $0.value.buffered < $1.value.buffered })
        {
            let detail = "it held \(largest.value.buffered) bytes when all connections held over \(maxBufferedBytes)"
            events.append(close(largest.key, kind: "buffer_budget", detail: detail))
        }
        return events
    }

    /// Disconnects a peer (an empty STREAM frame closes its connection) and forgets it.
    private func close(_ identity: [UInt8], kind: String, detail: String) -> Event {
        _ = try? socket.send([identity, []], dontWait: true)
        let name = connections[identity]?.name ?? identity
        forget(identity)
        recentlyClosed.insert(identity)
        closedOrder.append(identity)
        if closedOrder.count > Self.recentlyClosedCapacity {
            recentlyClosed.remove(closedOrder.removeFirst())
        }
        return .closed(identity: name, kind: kind, detail: detail)
    }

    private func forget(_ identity: [UInt8]) {
        guard let connection = connections.removeValue(forKey: identity) else { return }
        bufferedBytes -= connection.buffered
        if let name = connection.name { streamIDs[name] = nil }
    }
}
