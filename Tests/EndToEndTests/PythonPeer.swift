import Foundation
import Testing

/// Runs a Python program from `Scripts/` as an independent peer.
///
/// Interop tests are disabled where python3 lacks pyzmq or PyNaCl — unless
/// `SEALPIPE_REQUIRE_INTEROP=1` (set by `Scripts/test.sh`, which installs them), where a
/// missing module fails the run instead of skipping it.
struct PythonPeer {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let required = ProcessInfo.processInfo.environment["SEALPIPE_REQUIRE_INTEROP"] == "1"

    static let modulesImport: Bool = {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import zmq, nacl"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    static var available: Bool { required || modulesImport }
    static let unavailableReason: Comment = "python3 with pyzmq and PyNaCl not found (Scripts/test.sh installs them)"

    let process: Process

    static func start(script: String, arguments: [String]) throws -> PythonPeer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent(script).path] + arguments
        try process.run()
        return PythonPeer(process: process)
    }

    /// Waits (bounded) for the peer to exit and returns its status; kills it if it hangs.
    func waitForExit(timeout: TimeInterval = 20) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            return -1
        }
        return process.terminationStatus
    }
}
