/// A ZeroMQ endpoint as written in a topology file: `tcp://HOST:PORT`, `ipc://PATH` or
/// `inproc://NAME`.
///
/// Parsed once so that nothing later has to split strings; `description` gives the text form
/// that ZeroMQ's `bind`/`connect` take.
public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// TCP on `host` (`*` binds every interface) and a fixed `port`.
    case tcp(host: String, port: Int)
    /// A Unix-domain socket path; one machine only.
    case ipc(path: String)
    /// Inside one process only; for in-process tests, never for `sealpipe launch`.
    case inproc(name: String)

    /// Parses the text form, or returns `nil` when it is not one of the three accepted forms.
    ///
    /// Ephemeral ports (`:*`, `:0`) are refused: every endpoint in a topology is a fixed address
    /// that other services and clients must be able to find.
    public init?(_ text: String) {
        if let rest = text.dropPrefix("tcp://") {
            guard let colon = rest.lastIndex(of: ":") else { return nil }
            var host = String(rest[..<colon])
            let portText = rest[rest.index(after: colon)...]
            if host.hasPrefix("[") && host.hasSuffix("]") {
                host = String(host.dropFirst().dropLast())
                guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
            } else {
                guard host == "*" || Endpoint.isHostName(host) else { return nil }
            }
            guard portText.count <= 5, portText.allSatisfy(\.isASCIIDigit), let port = Int(portText),
                (1...65535).contains(port)
            else { return nil }
            self = .tcp(host: host, port: port)
        } else if let rest = text.dropPrefix("ipc://"), !rest.isEmpty, !rest.contains(where: \.isWhitespace) {
            self = .ipc(path: String(rest))
        } else if let rest = text.dropPrefix("inproc://"), !rest.isEmpty, !rest.contains(where: \.isWhitespace) {
            self = .inproc(name: String(rest))
        } else {
            return nil
        }
    }

    /// The text form ZeroMQ takes.
    public var description: String {
        switch self {
        case .tcp(let host, let port):
            host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        case .ipc(let path): "ipc://\(path)"
        case .inproc(let name): "inproc://\(name)"
        }
    }

    /// Whether a TCP bind listens on every interface (`*`, `0.0.0.0`, `::`).
    public var isWildcard: Bool {
        if case .tcp(let host, _) = self { return Endpoint.wildcardHosts.contains(host) }
        return false
    }

    /// The form a peer connects to: a wildcard TCP bind becomes `hostAddress`, anything else is
    /// unchanged (a peer cannot connect to `*`).
    public func connectable(hostAddress: String) -> Endpoint {
        if case .tcp(_, let port) = self, isWildcard { return .tcp(host: hostAddress, port: port) }
        return self
    }

    static let wildcardHosts: Set<String> = ["*", "0.0.0.0", "::"]

    /// Host names and IPv4 addresses: letters, digits, `-` and `.`, not starting with `-` or `.`.
    static func isHostName(_ text: some StringProtocol) -> Bool {
        guard let first = text.first, first.isASCIILetterOrDigit, text.count <= 253 else { return false }
        return text.allSatisfy { $0.isASCIILetterOrDigit || $0 == "-" || $0 == "." }
    }
}

extension String {
    fileprivate func dropPrefix(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetterOrDigit: Bool { isASCII && (isLetter || isNumber) }
}
