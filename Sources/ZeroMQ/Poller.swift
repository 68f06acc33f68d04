internal import CZeroMQ
import TimeUnits

/// Readiness a poll asks for or reports.
public struct PollEvents: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let readable = PollEvents(rawValue: Int16(ZMQ_POLLIN))
    public static let writable = PollEvents(rawValue: Int16(ZMQ_POLLOUT))
}

/// Waits on several sockets at once (`zmq_poll`). Owned by the thread that owns the sockets.
public final class Poller {
    private var sockets: [Socket] = []
    private var interests: [PollEvents] = []

    public init() {}

    /// Adds a socket; returns its index in `poll`'s result.
    @discardableResult
    public func add(_ socket: Socket, for events: PollEvents = .readable) -> Int {
        sockets.append(socket)
        interests.append(events)
        return sockets.count - 1
    }

    /// Waits until a socket is ready or `timeout` passes (forever when `nil`). Returns each
    /// socket's ready events, in the order added (empty when the timeout passed).
    public func poll(timeout: Duration?) throws(ZMQError) -> [PollEvents] {
        var items: [zmq_pollitem_t] = []
        items.reserveCapacity(sockets.count)
        for (socket, events) in zip(sockets, interests) {
            items.append(
                zmq_pollitem_t(socket: try socket.liveHandle("zmq_poll"), fd: 0, events: events.rawValue, revents: 0))
        }
        let milliseconds = timeout.map { Int($0.roundedUpMilliseconds) } ?? -1
        let count = Int32(items.count)
        try zmqCall("zmq_poll") { zmq_poll(&items, count, milliseconds) }
        return items.map { PollEvents(rawValue: $0.revents) }
    }
}
