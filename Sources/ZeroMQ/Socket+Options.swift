internal import CZeroMQ
import TimeUnits

/// Typed socket options. Each setter throws the failing call's errno; getters read back what
/// libzmq holds.
extension Socket {
    func setOption(_ option: Int32, _ value: Int32, _ name: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_setsockopt(\(name))")
        var value = value
        try zmqCall("zmq_setsockopt(\(name))") {
            zmq_setsockopt(handle, option, &value, MemoryLayout<Int32>.size)
        }
    }

    func setOption(_ option: Int32, bytes: [UInt8], _ name: String) throws(ZMQError) {
        let handle = try liveHandle("zmq_setsockopt(\(name))")
        try zmqCall("zmq_setsockopt(\(name))") {
            bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        }
    }

    func intOption(_ option: Int32, _ name: String) throws(ZMQError) -> Int32 {
        let handle = try liveHandle("zmq_getsockopt(\(name))")
        var value: Int32 = 0
        var size = MemoryLayout<Int32>.size
        try zmqCall("zmq_getsockopt(\(name))") { zmq_getsockopt(handle, option, &value, &size) }
        return value
    }

    func bytesOption(_ option: Int32, _ name: String, capacity: Int = 256) throws(ZMQError) -> [UInt8] {
        let handle = try liveHandle("zmq_getsockopt(\(name))")
        var buffer = [UInt8](repeating: 0, count: capacity)
        var size = capacity
        try zmqCall("zmq_getsockopt(\(name))") { zmq_getsockopt(handle, option, &buffer, &size) }
        return Array(buffer.prefix(size))
    }

    /// How long unsent messages are kept after close; 0 (the default here) drops them.
    public func setLinger(_ duration: Duration) throws(ZMQError) {
        try setOption(ZMQ_LINGER, Int32(duration.roundedUpMilliseconds), "linger")
    }

    public func linger() throws(ZMQError) -> Duration { .milliseconds(try intOption(ZMQ_LINGER, "linger")) }

    /// Queue limit for outgoing messages per peer; beyond it sends block or fail.
    public func setSendHighWaterMark(_ messages: Int) throws(ZMQError) {
        try setOption(ZMQ_SNDHWM, Int32(messages), "sndhwm")
    }

    public func sendHighWaterMark() throws(ZMQError) -> Int { Int(try intOption(ZMQ_SNDHWM, "sndhwm")) }

    /// Queue limit for incoming messages per peer.
    public func setReceiveHighWaterMark(_ messages: Int) throws(ZMQError) {
        try setOption(ZMQ_RCVHWM, Int32(messages), "rcvhwm")
    }

    public func receiveHighWaterMark() throws(ZMQError) -> Int { Int(try intOption(ZMQ_RCVHWM, "rcvhwm")) }

    /// The identity a ROUTER peer sees for this socket; set before connecting.
    public func setRoutingID(_ id: [UInt8]) throws(ZMQError) {
        try setOption(ZMQ_ROUTING_ID, bytes: id, "routing_id")
    }

    public func routingID() throws(ZMQError) -> [UInt8] { try bytesOption(ZMQ_ROUTING_ID, "routing_id") }

    /// ZMTP heartbeats: ping every `interval`, drop the peer after `timeout` without traffic,
    /// and ask the peer to drop us after `ttl`.
    public func setHeartbeat(interval: Duration, timeout: Duration, ttl: Duration? = nil) throws(ZMQError) {
        try setOption(ZMQ_HEARTBEAT_IVL, Int32(interval.roundedUpMilliseconds), "heartbeat_ivl")
        try setOption(ZMQ_HEARTBEAT_TIMEOUT, Int32(timeout.roundedUpMilliseconds), "heartbeat_timeout")
        if let ttl { try setOption(ZMQ_HEARTBEAT_TTL, Int32(ttl.roundedUpMilliseconds), "heartbeat_ttl") }
    }

    /// Fail sends to unknown ROUTER identities with `EHOSTUNREACH` instead of dropping them.
    public func setRouterMandatory(_ enabled: Bool) throws(ZMQError) {
        try setOption(ZMQ_ROUTER_MANDATORY, enabled ? 1 : 0, "router_mandatory")
    }

    /// Queue messages only to completed connections.
    public func setImmediate(_ enabled: Bool) throws(ZMQError) {
        try setOption(ZMQ_IMMEDIATE, enabled ? 1 : 0, "immediate")
    }

    /// Drop peers that send a single frame larger than this (protects against oversize input).
    public func setMaximumMessageSize(_ bytes: Int64) throws(ZMQError) {
        let handle = try liveHandle("zmq_setsockopt(maxmsgsize)")
        var value = bytes
        try zmqCall("zmq_setsockopt(maxmsgsize)") {
            zmq_setsockopt(handle, ZMQ_MAXMSGSIZE, &value, MemoryLayout<Int64>.size)
        }
    }

    /// Bounds every incoming message: libzmq drops a peer whose single frame exceeds
    /// `limits.maxBytes` before allocating it (`ZMQ_MAXMSGSIZE`), and `receiveMessage` discards
    /// a message of more frames or bytes than the limits, copying none of the excess.
    public func setMessageLimits(_ limits: MessageLimits) throws(ZMQError) {
        try setMaximumMessageSize(limits.maxBytes == .max ? -1 : Int64(limits.maxBytes))
        messageLimits = limits
    }

    /// Subscribe (SUB sockets) to messages whose first frame starts with `prefix`.
    public func subscribe(_ prefix: [UInt8] = []) throws(ZMQError) {
        try setOption(ZMQ_SUBSCRIBE, bytes: prefix, "subscribe")
    }

    /// Make this socket a CURVE server with its 32-byte secret key.
    public func setCurveServer(secretKey: [UInt8]) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVER, 1, "curve_server")
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: secretKey, "curve_secretkey")
    }

    /// Make this socket a CURVE client of the server with `serverKey`.
    public func setCurveClient(serverKey: [UInt8], publicKey: [UInt8], secretKey: [UInt8]) throws(ZMQError) {
        try setOption(ZMQ_CURVE_SERVERKEY, bytes: serverKey, "curve_serverkey")
        try setOption(ZMQ_CURVE_PUBLICKEY, bytes: publicKey, "curve_publickey")
        try setOption(ZMQ_CURVE_SECRETKEY, bytes: secretKey, "curve_secretkey")
    }

    /// Whether a message can be received or sent right now (`ZMQ_EVENTS`).
    public func events() throws(ZMQError) -> PollEvents {
        PollEvents(rawValue: Int16(try intOption(ZMQ_EVENTS, "events")))
    }
}
