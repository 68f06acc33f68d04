internal import CZeroMQ

/// A libzmq context: owns the I/O threads that every socket made from it uses.
///
/// Sockets keep their context alive, so the context is terminated only after its last socket
/// is closed; `shutdown()` makes every blocking call on its sockets return at once with
/// `ETERM`, which is how a service stops promptly.
public final class ZMQContext: @unchecked Sendable {
    // @unchecked Sendable: libzmq contexts are thread-safe; `handle` never changes after init.
    let handle: UnsafeMutableRawPointer

    /// Creates a context with `ioThreads` background I/O threads.
    public init(ioThreads: Int = 1) throws(ZMQError) {
        guard let handle = zmq_ctx_new() else { throw ZMQError(call: "zmq_ctx_new", errno: zmq_errno()) }
        self.handle = handle
        try zmqCall("zmq_ctx_set") { zmq_ctx_set(handle, ZMQ_IO_THREADS, Int32(ioThreads)) }
    }

    /// A new socket of `kind`, owned by the caller. Linger is 0 so closing never waits.
    public func socket(_ kind: SocketKind) throws(ZMQError) -> Socket {
        try Socket(context: self, kind: kind)
    }

    /// Wakes every blocking call on this context's sockets with `ETERM`; returns at once.
    public func shutdown() {
        _ = zmq_ctx_shutdown(handle)
    }

    deinit {
        // All sockets hold a reference, so none is open here and termination cannot block.
        _ = try? zmqCall("zmq_ctx_term") { zmq_ctx_term(handle) }
    }

    /// The libzmq version as (major, minor, patch).
    public static var version: (major: Int, minor: Int, patch: Int) {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return (Int(major), Int(minor), Int(patch))
    }

    /// Whether libzmq was built with CURVE security.
    public static var hasCurve: Bool { zmq_has("curve") != 0 }
}
