#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A peer that speaks ZMTP 3.0 (NULL mechanism) by hand over a plain TCP socket, so a test can
/// send what no well-behaved libzmq sender would: a message of very many frames, or a frame
/// header announcing hundreds of mebibytes. Blocking, with a receive timeout.
final class RawZMTPPeer: @unchecked Sendable {  // only an fd: a test may write from another thread
    private let fd: Int32

    enum Failure: Error {
        case socket(Int32)
        case connect(Int32)
        case send(Int32)
        case handshake(String)
    }

    /// Connects to `tcp://127.0.0.1:PORT` and, unless `handshake` is false, sends the handshake
    /// of a `socketType` (DEALER unless given); with `awaitPeer`, it then reads the other side's
    /// greeting and READY (a single-threaded test whose other side is not yet reading says no).
    init(endpoint: String, socketType: String = "DEALER", handshake: Bool = true, awaitPeer: Bool = true) throws {
        guard let colon = endpoint.lastIndex(of: ":"), let port = UInt16(endpoint[endpoint.index(after: colon)...])
        else {
            throw Failure.handshake("not a tcp endpoint: \(endpoint)")
        }
        #if canImport(Glibc)
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw Failure.socket(errno) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure.connect(errno)
        }
        guard handshake else { return }
        // Greeting: signature, version 3.0, mechanism NULL, as-server 0, filler.
        var greeting: [UInt8] = [0xFF] + Array(repeating: 0, count: 8) + [0x7F, 3, 0]
        greeting += Array("NULL".utf8) + Array(repeating: 0, count: 16)
        greeting += [0] + Array(repeating: 0, count: 31)
        // READY with the Socket-Type, sent at once: ZMTP lets a peer send it before reading ours.
        let type = Array(socketType.utf8)
        let property: [UInt8] = [11] + Array("Socket-Type".utf8) + [0, 0, 0, UInt8(type.count)] + type
        let ready: [UInt8] = [5] + Array("READY".utf8) + property
        try send(greeting + [0x04, UInt8(ready.count)] + ready)
        if awaitPeer { try readPeerHandshake() }
    }

    /// Reads the other side's greeting and READY command.
    func readPeerHandshake() throws {
        let theirs = try receive(count: 64)
        guard theirs[0] == 0xFF, theirs[9] == 0x7F else { throw Failure.handshake("no ZMTP greeting") }
        let flags = try receive(count: 1)[0]
        let size =
            flags & 0x02 != 0
            ? try receive(count: 8).reduce(0) { $0 << 8 | Int($1) } : Int(try receive(count: 1)[0])
        _ = try receive(count: size)
        guard flags & 0x04 != 0 else { throw Failure.handshake("expected the peer's READY command") }
    }

    deinit { close(fd) }

    /// Sends one message frame by frame: `count` frames of `frame`, all but the last with MORE.
    func sendMessage(repeating frame: [UInt8], count: Int) throws {
        var batch: [UInt8] = []
        for index in 0..<count {
            batch += Self.frameHeader(size: frame.count, more: index < count - 1) + frame
            if batch.count >= 1 << 16 {
                try send(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try send(batch)
    }

    /// Sends only the header of a last frame announcing `size` bytes, then `prefix` of its body.
    func sendFrameStart(announcing size: Int, prefix: [UInt8]) throws {
        try send(Self.frameHeader(size: size, more: false) + prefix)
    }

    /// True when the other side has closed the connection (end of file or a reset) within
    /// `milliseconds`; whatever it sent before is read and dropped.
    func closed(within milliseconds: Int32) -> Bool {
        var item = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        while poll(&item, 1, milliseconds) > 0 {
            let got = read(fd, &byte, 1)
            if got == 0 { return true }
            if got < 0 { return errno == ECONNRESET }
        }
        return false
    }

    /// True when the other side has closed the connection (read returns end of file or a reset)
    /// within the socket's receive timeout.
    func peerClosed() -> Bool {
        var byte: UInt8 = 0
        while true {
            let got = read(fd, &byte, 1)
            if got == 0 { return true }
            if got < 0 { return errno == ECONNRESET }
        }
    }

    private static func frameHeader(size: Int, more: Bool) -> [UInt8] {
        let moreFlag: UInt8 = more ? 0x01 : 0
        if size < 256 { return [moreFlag, UInt8(size)] }
        return [moreFlag | 0x02] + (0..<8).reversed().map { UInt8(truncatingIfNeeded: size >> ($0 * 8)) }
    }

    /// Sends bytes as they are, whatever they mean.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a peer the other side closed gets EPIPE, not a SIGPIPE that ends the test run.
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw Failure.send(errno) }
            offset += sent
        }
    }

    func receive(count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let got = bytes[offset...].withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard got > 0 else { throw Failure.handshake("connection ended during the handshake") }
            offset += got
        }
        return bytes
    }
}
