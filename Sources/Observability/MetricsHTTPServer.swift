import Foundation
public import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny HTTP/1.1 server for `GET /metrics` (Prometheus text: the service's metrics, then the
/// standard `process_*` ones) and `GET /status` (JSON).
///
/// Every service runs one on the address the topology names. It answers one request per
/// connection, each connection on a thread of its own (at most `maxConnections` at once; more
/// are closed unanswered), and gives each connection `requestTimeout` in all to send its request
/// and take the answer, so a slow or silent client holds only its own connection, briefly.
///
/// A `Service`: `init` only binds (so the port is known, and a bad address fails, before any
/// service starts); `run()` accepts on a thread of its own until graceful shutdown or
/// cancellation, then closes the listener. Until `run()`, connections wait in the backlog.
public final class MetricsHTTPServer: Service {
    public typealias Provider = @Sendable () -> String

    private let listener: Int32
    private let metrics: Provider
    private let status: Provider
    private let stopped = Atomic<Bool>(false)
    private let serving = Atomic<Bool>(false)
    private let active = Atomic<Int>(0)
    private let requestTimeout: Duration
    private let maxConnections: Int
    /// Longest request head read; a scrape's is a few hundred bytes.
    static let maxRequestBytes = 8192
    /// The port actually bound (useful when asked for port 0).
    public let port: Int

    /// Binds `host:port` (IPv4); `run()` serves it.
    public init(
        host: String, port: Int, requestTimeout: Duration = .seconds(2), maxConnections: Int = 16,
        metrics: @escaping Provider, status: @escaping Provider
    ) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw MetricsServerError.system("socket", errno) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        let numeric =
            switch host {
            case "localhost": "127.0.0.1"
            case "*", "": "0.0.0.0"
            default: host
            }
        guard inet_pton(AF_INET, numeric, &address.sin_addr) == 1 else {
            close(descriptor)
            throw MetricsServerError.badAddress(host)
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            let code = errno
            close(descriptor)
            throw MetricsServerError.system("bind \(host):\(port)", code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.listener = descriptor
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        self.metrics = metrics
        self.status = status
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
    }

    /// Accepts connections until graceful shutdown or cancellation, then stops. The accept loop
    /// blocks in `accept(2)`, so it has a thread of its own; closing the listener ends it.
    public func run() async throws {
        let thread = Thread { [self] in serve() }
        thread.name = "metrics-http"
        thread.start()
        serving.store(true, ordering: .releasing)
        defer { stop() }
        // Cancellation (a group cancelled, a test done) ends serving just as graceful shutdown does.
        try? await gracefulShutdown()
    }

    /// Whether `run()` has started the accept loop (and not yet stopped).
    public var isServing: Bool { serving.load(ordering: .acquiring) && !stopped.load(ordering: .relaxed) }

    /// Stops accepting; the serving thread exits.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// The process metrics every service shares, after its own.
    private func processMetrics() -> String {
        var exposition = PrometheusExposition()
        ProcessMetrics.exposition(into: &exposition)
        return exposition.text
    }

    private func serve() {
        while !stopped.load(ordering: .relaxed) {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED || errno == EMFILE || errno == ENFILE { continue }
                return
            }
            guard active.add(1, ordering: .relaxed).newValue <= maxConnections else {
                active.subtract(1, ordering: .relaxed)
                close(connection)
                continue
            }
            let thread = Thread { [self] in
                respond(on: connection)
                close(connection)
                active.subtract(1, ordering: .relaxed)
            }
            thread.name = "metrics-http-connection"
            thread.start()
        }
    }

    /// Reads the request head until its blank line, the size cap, or the deadline, whichever
    /// comes first; each wait is for what is left of the connection's time, not a fresh timeout.
    private func readRequest(on connection: Int32, until deadline: ContinuousClock.Instant) -> [UInt8] {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < Self.maxRequestBytes {
            let left = deadline - .now
            guard left > .zero else { break }
            var item = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            let (seconds, attoseconds) = left.components
            let milliseconds = Int32(clamping: seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1)
            guard poll(&item, 1, milliseconds) > 0 else { break }
            let count = recv(connection, &buffer, min(buffer.count, Self.maxRequestBytes - request.count), 0)
            if count <= 0 { break }
            request += buffer[0..<count]
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
        }
        return request
    }

    private func respond(on connection: Int32) {
        let deadline = ContinuousClock.now + requestTimeout
        // A client that will not take the answer is dropped too, not waited on.
        let (seconds, attoseconds) = requestTimeout.components
        var sendLimit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &sendLimit, socklen_t(MemoryLayout<timeval>.size))
        let request = readRequest(on: connection, until: deadline)
        guard request.suffix(4) == [13, 10, 13, 10] else { return }  // incomplete: timed out, too long or gone
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        let (code, type, body): (String, String, String)
        if parts.count >= 2, parts[0] == "GET" {
            let path = parts[1].split(separator: "?").first.map(String.init) ?? ""
            switch path {
            case "/metrics":
                (code, type, body) = (
                    "200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics() + processMetrics()
                )
            case "/status": (code, type, body) = ("200 OK", "application/json", status())
            case "/", "/healthz": (code, type, body) = ("200 OK", "text/plain", "ok\n")
            default: (code, type, body) = ("404 Not Found", "text/plain", "not found\n")
            }
        } else {
            (code, type, body) = ("405 Method Not Allowed", "text/plain", "only GET\n")
        }
        let payload = Array(body.utf8)
        let head =
            "HTTP/1.1 \(code)\r\nContent-Type: \(type)\r\nContent-Length: \(payload.count)\r\nConnection: close\r\n\r\n"
        let response = Array(head.utf8) + payload
        var sent = 0
        while sent < response.count, ContinuousClock.now < deadline {
            let count = response[sent...].withUnsafeBytes {
                send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { break }
            sent += count
        }
    }
}

public enum MetricsServerError: Error, CustomStringConvertible {
    case system(String, Int32)
    case badAddress(String)

    public var description: String {
        switch self {
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        case .badAddress(let host): "metrics address \(host) is not an IPv4 address"
        }
    }
}
