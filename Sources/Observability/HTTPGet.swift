import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal blocking HTTP GET over IPv4, for `sealpipe status` and tests to read a service's
/// `/metrics` or `/status` without pulling in an HTTP client stack.
public enum HTTPGet {
    public static func fetch(host: String, port: Int, path: String, timeout: Duration = .seconds(2)) throws -> String {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw MetricsServerError.system("socket", errno) }
        defer { close(descriptor) }
        let (seconds, attoseconds) = timeout.components
        var limit = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            throw MetricsServerError.badAddress(host)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw MetricsServerError.system("connect \(host):\(port)", errno) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else {
            throw MetricsServerError.system("read \(host):\(port)\(path)", EPROTO)
        }
        let status = text[..<split.lowerBound].split(separator: "\r\n").first ?? ""
        guard status.contains(" 200 ") else { throw HTTPStatusError(statusLine: String(status)) }
        return String(text[split.upperBound...])
    }
}

public struct HTTPStatusError: Error, CustomStringConvertible {
    public let statusLine: String
    public var description: String { "unexpected HTTP status: \(statusLine)" }
}
