internal import CZeroMQ

#if canImport(Glibc)
    internal import Glibc
#endif

/// A failed libzmq call: which call, the errno it left, and libzmq's text for it.
public struct ZMQError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The libzmq function that failed, e.g. `zmq_bind`.
    public let call: String
    /// `zmq_errno()` read right after the call.
    public let errno: Int32
    /// libzmq's description of `errno`.
    public let message: String

    init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
        self.message = String(cString: zmq_strerror(errno))
    }

    /// The context was shut down (`ETERM`): the owner should close its socket and stop.
    public var isContextTerminated: Bool { errno == ETERM }
    /// Nothing could be sent or received without blocking (`EAGAIN`).
    public var isWouldBlock: Bool { errno == EAGAIN }
    /// A ROUTER could not route to an unknown peer (`EHOSTUNREACH`, with router-mandatory set).
    public var isHostUnreachable: Bool { errno == EHOSTUNREACH }

    public var description: String { "\(call): \(message) (errno \(errno))" }
}

/// Runs one libzmq call: retries `EINTR`, reads `zmq_errno()` at once, and throws a typed error
/// naming the call. Every libzmq call in this module goes through here.
@discardableResult
func zmqCall(_ name: String, _ body: () -> Int32) throws(ZMQError) -> Int32 {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = zmq_errno()
        if code == EINTR { continue }
        throw ZMQError(call: name, errno: code)
    }
}
