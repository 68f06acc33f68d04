import BrokerClient
import Foundation
import Inference
import SealpipeClient
import Sodium
import Testing
import Trust
import ZeroMQ

/// The built `sealpipe` binary launched on a topology, in a fresh working directory (its own
/// key broker state, keys and sealed weights), as an operator would run it.
final class LaunchedPipeline: @unchecked Sendable {
    // @unchecked Sendable: `lines` is guarded by `lock`; the rest is set once in init.
    static let repositoryRoot = PythonPeer.repositoryRoot

    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["SEALPIPE_BINARY"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.appendingPathComponent(".build/debug/sealpipe")
    }

    static var modelDirectory: URL {
        if let path = ProcessInfo.processInfo.environment["SEALPIPE_MODEL_DIR"] { return URL(fileURLWithPath: path) }
        return repositoryRoot.appendingPathComponent("models/all-MiniLM-L6-v2")
    }

    /// Whether an end-to-end run is possible here (binary built, model fetched).
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: binary.path)
            && FileManager.default.fileExists(atPath: modelDirectory.appendingPathComponent("model.safetensors").path)
    }

    static let unavailableReason: Comment =
        "needs .build/debug/sealpipe and models/ (Scripts/test.sh builds and fetches them)"

    let workingDirectory: URL
    let process: Process
    /// Whether this launch made the working directory (and so removes it).
    private let ownsWorkingDirectory: Bool
    private let lock = NSLock()
    private var lines: [String] = []
    private var readyLine: [String: String]?
    private let ready = DispatchSemaphore(value: 0)

    /// Launches `Topologies/<topology>`, or — given `contents` — a topology file of that name
    /// written into the working directory. `host` starts only that host's share; `namespace`
    /// runs the launcher inside that network namespace (`ip netns exec`); `sharing` launches in
    /// another launch's working directory, as hosts of one pipeline share its files here.
    init(
        topology: String, contents: String? = nil, host: String? = nil, namespace: String? = nil,
        sharing: LaunchedPipeline? = nil,
        timeout: TimeInterval = 120, prepare: ((URL) throws -> Void)? = nil
    ) throws {
        if let sharing {
            workingDirectory = sharing.workingDirectory
            ownsWorkingDirectory = false
        } else {
            workingDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "sealpipe-e2e-\(UUID().uuidString)")
            ownsWorkingDirectory = true
            try FileManager.default.createDirectory(
                at: workingDirectory.appendingPathComponent("models"), withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                at: workingDirectory.appendingPathComponent("models/all-MiniLM-L6-v2"),
                withDestinationURL: Self.modelDirectory)
            try FileManager.default.createSymbolicLink(
                at: workingDirectory.appendingPathComponent("Topologies"),
                withDestinationURL: Self.repositoryRoot.appendingPathComponent("Topologies"))
        }
        try prepare?(workingDirectory)
        // A child that exits before reading its input must fail its test, not kill the test process.
        signal(SIGPIPE, SIG_IGN)
        process = Process()
        if let contents {
            try contents.write(to: workingDirectory.appendingPathComponent(topology), atomically: true, encoding: .utf8)
        }
        let launch =
            ["launch", contents == nil ? "Topologies/\(topology)" : topology] + (host.map { ["--host", $0] } ?? [])
        if let namespace {
            process.executableURL = NetworkNamespaces.ip
            process.arguments = ["netns", "exec", namespace, Self.binary.path] + launch
        } else {
            process.executableURL = Self.binary
            process.arguments = launch
        }
        process.currentDirectoryURL = workingDirectory
        var environment = ProcessInfo.processInfo.environment
        environment["SEALPIPE_LOG_LEVEL"] = "warning"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        let buffer = Mutex2(Data())
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            var complete: [String] = []
            buffer.update { pending in
                pending.append(data)
                while let newline = pending.firstIndex(of: 0x0a) {
                    complete.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            for line in complete { self.record(line) }
        }
        try process.run()
        guard ready.wait(timeout: .now() + timeout) == .success else {
            stop()
            throw LaunchFailure.notReady(output: text)
        }
    }

    private func record(_ line: String) {
        lock.withLock { lines.append(line) }
        if let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
            object["service"] == "launch", object["event"] == "ready"
        {
            lock.withLock { readyLine = object }
            ready.signal()
        }
    }

    /// Everything the launcher printed on standard output so far.
    var text: String { lock.withLock { lines.joined(separator: "\n") } }

    /// The key broker identity the launcher recorded for clients to pin.
    func brokerIdentity(stateDirectory: String) throws -> String {
        try String(
            contentsOf: workingDirectory.appendingPathComponent(".sealpipe/\(stateDirectory)/kms-identity.pub"),
            encoding: .utf8
        )
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What a program run left: its exit status, standard output and standard error.
    typealias RunResult = (status: Int32, output: String, errors: String)

    /// Runs `sealpipe ARGS` (or another program) in the pipeline's working directory. Its
    /// standard error is returned as `errors` and also copied to the test's.
    func run(_ arguments: [String], executable: URL? = nil, input: Data? = nil, timeout: TimeInterval = 120) throws
        -> RunResult
    {
        let child = Process()
        child.executableURL = executable ?? Self.binary
        child.arguments = arguments
        child.currentDirectoryURL = workingDirectory
        let output = Pipe()
        child.standardOutput = output
        let errorOutput = Pipe()
        child.standardError = errorOutput
        let stdin = Pipe()
        child.standardInput = stdin
        try child.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        // Both pipes drain on threads of their own, so neither can fill and stall the child.
        let collected = Mutex2(Data())
        let collectedErrors = Mutex2(Data())
        let done = DispatchSemaphore(value: 0)
        for (pipe, sink) in [(output, collected), (errorOutput, collectedErrors)] {
            Thread {
                sink.set(pipe.fileHandleForReading.readDataToEndOfFile())
                done.signal()
            }.start()
        }
        let deadline = DispatchTime.now() + timeout
        if done.wait(timeout: deadline) == .timedOut || done.wait(timeout: deadline) == .timedOut {
            child.terminate()
            throw LaunchFailure.childTimedOut(arguments.joined(separator: " "))
        }
        child.waitUntilExit()
        FileHandle.standardError.write(collectedErrors.get())
        return (
            child.terminationStatus, String(decoding: collected.get(), as: UTF8.self),
            String(decoding: collectedErrors.get(), as: UTF8.self)
        )
    }

    /// Where a client sends jobs, from the broker's manifest verified against the identity the
    /// launcher recorded — what `sealpipe submit --allow-simulated` does, for tests that drive
    /// the client library (every topology here runs on the simulated TEE).
    func verifiedTarget(stateDirectory: String, keyBroker: String, front: String) throws -> PipelineTarget {
        let identity = try brokerIdentity(stateDirectory: stateDirectory)
        let manifest = try KeyBrokerClient(endpoint: keyBroker, context: ZMQContext()).fetchManifestWaiting()
        try KeyBrokerClient.verify(
            manifest, pinnedBrokerKey: SigningPublicKey(bytes: Hex.decode(identity)!), allowSimulated: true)
        return try PipelineTarget(manifest: manifest, frontEndpoint: front)
    }

    /// Runs both clients on `input` (JSON lines): `sealpipe submit` and `Scripts/client.py`,
    /// each with `--allow-simulated` if `allowSimulated`. `front` and `keyBroker` are the
    /// topology's endpoints (the Python client is told them; the Swift one reads the topology).
    func runBothClients(
        topology: String, stateDirectory: String, input: Data, allowSimulated: Bool,
        front: String = "tcp://127.0.0.1:5555", keyBroker: String = "tcp://127.0.0.1:5550"
    ) throws -> (swift: RunResult, python: RunResult) {
        let flag = allowSimulated ? ["--allow-simulated"] : []
        let swift = try run(["submit", "--topology", "Topologies/\(topology)", "--input", "-"] + flag, input: input)
        let identity = try brokerIdentity(stateDirectory: stateDirectory)
        let python = try run(
            [
                "python3", Self.repositoryRoot.appendingPathComponent("Scripts/client.py").path, "--kms-key", identity,
                "--front", front, "--kms", keyBroker,
            ] + flag,
            executable: URL(fileURLWithPath: "/usr/bin/env"), input: input)
        return (swift, python)
    }

    /// SIGTERM: the launcher drains and stops every service. Returns its exit status.
    @discardableResult
    func stop(timeout: TimeInterval = 30) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        stop()
        if ownsWorkingDirectory { try? FileManager.default.removeItem(at: workingDirectory) }
    }
}

enum LaunchFailure: Error, CustomStringConvertible {
    case notReady(output: String)
    case childTimedOut(String)

    var description: String {
        switch self {
        case .notReady(let output): "the pipeline did not announce readiness; launcher said:\n\(output)"
        case .childTimedOut(let command): "`\(command)` did not finish in time"
        }
    }
}

/// A value shared between a test and one thread it starts.
final class Mutex2<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: guarded by `lock`.
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.withLock { value } }
    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func update(_ body: (inout Value) -> Void) { lock.withLock { body(&value) } }
}

/// The model fixture's sentences and sentence-transformers' embeddings of them.
struct ReferenceCases {
    struct Case: Decodable {
        let name: String
        let text: String
        let embedding: [Float]
    }

    struct File: Decodable { let cases: [Case] }

    static func load() throws -> [Case] {
        let url = LaunchedPipeline.repositoryRoot.appendingPathComponent(
            "Tests/InferenceTests/Fixtures/minilm-reference.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    static func jsonLines(_ cases: [Case]) throws -> Data {
        var data = Data()
        for item in cases {
            data += try JSONSerialization.data(withJSONObject: ["text": item.text]) + Data("\n".utf8)
        }
        return data
    }

    /// The `embedding` of each output line, in order (nil for error lines).
    static func embeddings(fromJSONLines text: String) -> [[Float]?] {
        text.split(separator: "\n").map { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                let values = object["embedding"] as? [Double]
            else { return nil }
            return values.map(Float.init)
        }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Double { Similarity.cosine(a, b) }
}
