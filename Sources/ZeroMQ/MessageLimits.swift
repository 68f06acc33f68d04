/// The most one incoming message may hold: frames and bytes over all its frames.
///
/// libzmq caps only single frames (`ZMQ_MAXMSGSIZE`, which drops the sending peer before the
/// frame is allocated); a peer can still send one message of very many legal frames. A socket
/// with limits copies at most `maxFrames` frames and `maxBytes` bytes of a message: the rest
/// is released frame by frame as it is drained, and the message is reported as discarded.
public struct MessageLimits: Sendable, Hashable {
    /// Frames in one message, counting any ROUTER identity frame.
    public var maxFrames: Int
    /// Bytes over all frames of one message; also the largest frame libzmq accepts.
    public var maxBytes: Int

    /// The bound every socket starts with: no message of this project has more than 16 frames,
    /// and no byte bound (that depends on the socket's traffic; set it with `setMessageLimits`).
    public static let `default` = MessageLimits(maxFrames: 16, maxBytes: .max)

    public init(maxFrames: Int, maxBytes: Int) {
        precondition(maxFrames >= 1 && maxBytes >= 0, "a message has at least one frame and no negative size")
        self.maxFrames = maxFrames
        self.maxBytes = maxBytes
    }
}

/// One receive on a socket with limits: a whole message within them, or what was thrown away.
public enum IncomingMessage: Sendable, Equatable {
    case message([[UInt8]])
    /// A message over the socket's limits, drained and released; `frames` and `bytes` are its
    /// whole size (never copied).
    case discarded(frames: Int, bytes: Int)
}
