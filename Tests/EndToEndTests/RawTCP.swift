import Foundation
import Observability

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP peer that speaks no ZeroMQ: it sends bytes and hangs up.
enum RawTCP {
    static func sendGarbage(host: String, port: Int, bytes: [UInt8]) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw POSIXError(.EIO) }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

/// A service's `/status` JSON from its metrics endpoint.
enum HTTPStatus {
    static func fetch(host: String = "127.0.0.1", port: Int) throws -> String {
        try HTTPGet.fetch(host: host, port: port, path: "/status")
    }
}
