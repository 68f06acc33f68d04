/// Where a service serves its Prometheus metrics over HTTP: `HOST:PORT`.
public struct MetricsAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address the HTTP listener binds (an IP address or a host name).
    public let host: String
    /// The TCP port, 1–65535.
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (IPv6 as `[ADDR]:PORT`), or returns `nil`.
    public init?(_ text: String) {
        guard let endpoint = Endpoint("tcp://" + text), case .tcp(let host, let port) = endpoint,
            host != "*"
        else { return nil }
        self.init(host: host, port: port)
    }

    /// `HOST:PORT`, with brackets around an IPv6 address.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
