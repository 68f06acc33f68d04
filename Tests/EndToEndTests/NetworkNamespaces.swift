import Foundation
import Testing

/// A test network of hosts on this machine: one network namespace per host, each with a veth
/// link into a bridge in this namespace, which also gets an address so that clients here reach
/// every host — several machines as far as the pipeline can tell.
final class NetworkNamespaces: @unchecked Sendable {
    // @unchecked Sendable: set up in init, torn down once; tests use it from one thread.
    static let bridge = "spbr-e2e"

    /// `ip` from iproute2, where Debian puts it.
    static let ip = URL(
        fileURLWithPath: ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        } ?? "/usr/sbin/ip")

    /// Whether this process may make namespaces: root, iproute2, and a probe namespace works.
    static let available: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: ip.path), LaunchedPipeline.available else {
            return false
        }
        let probe = "sealpipe-probe-\(getpid())"
        guard (try? run(["netns", "add", probe])) != nil else { return false }
        _ = try? run(["netns", "del", probe])
        return true
    }()

    static let unavailableReason: Comment =
        "needs root, iproute2 (`ip`) and network namespaces, plus the built binary and model (Scripts/test.sh)"

    private var namespaces: [String: String] = [:]

    /// Makes a namespace `sealpipe-HOST` per host with `address`/`prefix` on its `eth0`, and the
    /// bridge with `bridgeAddress`. Leftovers of an earlier, interrupted run are removed first.
    init(hosts: [(name: String, address: String)], bridgeAddress: String, prefix: Int = 24) throws {
        Self.removeLeftovers(hosts: hosts.map(\.name))
        do {
            try Self.run(["link", "add", Self.bridge, "type", "bridge"])
            try Self.run(["addr", "add", "\(bridgeAddress)/\(prefix)", "dev", Self.bridge])
            try Self.run(["link", "set", Self.bridge, "up"])
            for host in hosts {
                let namespace = "sealpipe-\(host.name)"
                let link = "sp-\(host.name)"
                try Self.run(["netns", "add", namespace])
                namespaces[host.name] = namespace
                try Self.run(["link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", namespace])
                try Self.run(["link", "set", link, "master", Self.bridge, "up"])
                try Self.run(["-n", namespace, "addr", "add", "\(host.address)/\(prefix)", "dev", "eth0"])
                try Self.run(["-n", namespace, "link", "set", "eth0", "up"])
                try Self.run(["-n", namespace, "link", "set", "lo", "up"])
            }
        } catch {
            tearDown()
            throw error
        }
    }

    /// The namespace of `host`.
    func namespace(_ host: String) -> String { namespaces[host]! }

    /// Deletes the namespaces (and with them their veth ends) and the bridge.
    func tearDown() {
        for namespace in namespaces.values { _ = try? Self.run(["netns", "del", namespace]) }
        namespaces = [:]
        _ = try? Self.run(["link", "del", Self.bridge])
    }

    deinit { tearDown() }

    private static func removeLeftovers(hosts: [String]) {
        for host in hosts {
            _ = try? run(["netns", "del", "sealpipe-\(host)"])
            _ = try? run(["link", "del", "sp-\(host)"])
        }
        _ = try? run(["link", "del", bridge])
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = ip
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            let reason = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw NetworkSetupFailure(command: "ip " + arguments.joined(separator: " "), reason: reason)
        }
        return text
    }
}

struct NetworkSetupFailure: Error, CustomStringConvertible {
    let command: String
    let reason: String
    var description: String { "`\(command)` failed: \(reason)" }
}
