internal import CZeroMQ
import TimeUnits

/// A message received under limits on its frame count and total size.
public struct BoundedMessage: Sendable {
    /// Why a message was not kept whole.
    public enum Excess: Sendable, Equatable {
        case tooManyFrames(limit: Int)
        case tooLarge(limit: Int)
    }

    /// The frames kept: the whole message, or (when `excess` is set) only the first frame, so a
    /// ROUTER can still address a reply to the sender.
    public var frames: [[UInt8]]
    /// The sender's address as libzmq reports it (`Peer-Address`; TCP and IPC only).
    public var peerAddress: String?
    /// Set when the message broke a limit; its other frames were read and dropped.
    public var excess: Excess?
}

extension Socket {
    /// Receives one multipart message, waiting at most `timeout` (forever when `nil`), keeping
    /// at most `maximumFrames` frames and `maximumBytes` bytes. A message over either limit is
    /// still read off the socket to its end, so the next message starts clean, but nothing past
    /// its first frame is kept. (`setMaximumMessageSize` bounds each frame before it is read.)
    public func receive(timeout: Duration?, maximumFrames: Int, maximumBytes: Int) throws(ZMQError)
        -> BoundedMessage?
    {
        precondition(maximumFrames >= 1 && maximumBytes >= 0, "a message limit must allow one frame")
        let handle = try liveHandle("zmq_msg_recv")
        if let timeout {
            var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
            let ready = try zmqCall("zmq_poll") { zmq_poll(&item, 1, Int(timeout.roundedUpMilliseconds)) }
            guard ready > 0 else { return nil }
        }
        var message = BoundedMessage(frames: [], peerAddress: nil, excess: nil)
        var count = 0
        var bytes = 0
        var more = true
        while more {
            var part = zmq_msg_t()
            try zmqCall("zmq_msg_init") { zmq_msg_init(&part) }
            defer { zmq_msg_close(&part) }
            let size = Int(try zmqCall("zmq_msg_recv") { zmq_msg_recv(&part, handle, 0) })
            more = zmq_msg_more(&part) != 0
            count += 1
            bytes += size
            // A ROUTER's routing-id frame is made locally and carries no metadata; the peer's own frames do.
            if message.peerAddress == nil, let address = zmq_msg_gets(&part, "Peer-Address") {
                message.peerAddress = String(cString: address)
            }
            if message.excess == nil {
                if count > maximumFrames {
                    message.excess = .tooManyFrames(limit: maximumFrames)
                } else if bytes > maximumBytes {
                    message.excess = .tooLarge(limit: maximumBytes)
                }
                if message.excess != nil {
                    message.frames.removeSubrange(min(1, message.frames.count)...)
                    continue
                }
                message.frames.append(Self.bytes(of: &part, count: size))
            }
        }
        return message
    }

    private static func bytes(of part: inout zmq_msg_t, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        let data = zmq_msg_data(&part)!
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.baseAddress!.update(from: data.assumingMemoryBound(to: UInt8.self), count: count)
            initialized = count
        }
    }
}
