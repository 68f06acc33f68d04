import Attestation
import BrokerClient
import Foundation
import KeyBroker
import Sodium
import Synchronization
import Testing
import Trust
import ZeroMQ

/// The real `sealpipe kms` under a flood from another address while a node attests.
@Suite("Key broker under flood", .timeLimit(.minutes(2)))
struct KeyBrokerFloodTests {
    /// How long the attackers run.
    static let floodSeconds = 8.0
    /// Most the broker's resident memory may reach (VmHWM) during the flood. The debug broker
    /// peaks near 57 MiB in this test; the ceiling leaves room for what libzmq may hold on top:
    /// up to 16 messages of at most 1 MiB + 4 KiB for each attacking connection (three here).
    static let memoryCeilingKiB = 160 * 1024
    /// Most the state file may grow: every entry the flood can cause (the refusal budget over the
    /// flood, and the node's releases) at under 2 KiB each with its tree head and nodes, plus
    /// SQLite's page rounding.
    static func stateGrowthCeiling(releases: Int) -> Int {
        (KeyBrokerCore.refusalEntryBurst
            + Int((KeyBrokerCore.refusalEntriesPerSecond * (floodSeconds + 2)).rounded(.up))
            + releases) * 2048 + 64 * 1024
    }

    /// A running `sealpipe kms` whose stderr goes to a file.
    final class Broker: Sendable {
        let process: Process
        let endpoint: String
        /// The broker's identity key, as it announces it: nodes pin it.
        let identity: SigningPublicKey
        let stderrPath: URL

        init(config: URL, stderrPath: URL) throws {
            let process = Process()
            process.executableURL = KeyBrokerProcessTests.binary
            process.arguments = ["kms", "--config", config.path]
            let output = Pipe()
            process.standardOutput = output
            _ = FileManager.default.createFile(atPath: stderrPath.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: stderrPath)
            try process.run()
            self.process = process
            self.stderrPath = stderrPath
            var line: [UInt8] = []
            while true {
                guard let byte = output.fileHandleForReading.readData(ofLength: 1).first else {
                    throw KeyBrokerError.configuration("sealpipe kms exited before announcing")
                }
                if byte == UInt8(ascii: "\n") { break }
                line.append(byte)
            }
            let words = String(decoding: line, as: UTF8.self).split(separator: " ").map(String.init)
            guard words.count == 5, words[1] == "listening" else {
                throw KeyBrokerError.configuration("unexpected announcement")
            }
            endpoint = words[2]
            guard let bytes = Hex.decode(words[4]), let identity = try? SigningPublicKey(bytes: bytes) else {
                throw KeyBrokerError.configuration("the announced identity is not a public key")
            }
            self.identity = identity
        }

        /// Resident and peak resident memory in KiB, from /proc.
        func memoryKiB() -> (rss: Int, peak: Int) {
            let status =
                (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
            func field(_ name: String) -> Int {
                let line = status.split(separator: "\n").first { $0.hasPrefix(name + ":") } ?? ""
                return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
            return (field("VmRSS"), field("VmHWM"))
        }

        func terminate() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Runs `body` on its own thread until `stop` is set; `done` is signalled when it returns.
    static func attacker(_ done: DispatchGroup, _ body: @escaping @Sendable () throws -> Void) {
        done.enter()
        let thread = Thread {
            defer { done.leave() }
            do { try body() } catch { Issue.record("attacker failed to run: \(error)") }
        }
        thread.start()
    }

    /// A DEALER connected from 127.0.0.2, so the broker sees the attacker as another address.
    static func attackSocket(_ context: ZMQContext, port: String) throws -> Socket {
        let socket = try context.socket(.dealer)
        try socket.setSendHighWaterMark(100_000)
        try socket.connect("tcp://127.0.0.2:0;127.0.0.1:\(port)")
        return socket
    }

    @Test(
        "flooded with nonce, malformed, oversize and refused requests, the broker still gives a node its keys",
        .enabled(if: KeyBrokerProcessTests.binaryAvailable, "build the sealpipe binary first (swift build)"))
    func flood() async throws {
        let f = try BrokerFixture()
        var configuration = f.configuration
        configuration.policy.roles["preprocessor"]!.evidence["simulated"]!.measurements = [
            Hex.encode(f.goodMeasurement)
        ]
        configuration.referenceMeasurements = [:]
        let configURL = f.directory.appendingPathComponent("kms.json")
        try JSONEncoder().encode(configuration).write(to: configURL)
        let broker = try Broker(config: configURL, stderrPath: f.directory.appendingPathComponent("kms.stderr"))
        defer { if broker.process.isRunning { _ = broker.terminate() } }
        let port = String(broker.endpoint.split(separator: ":").last!)
        let context = try ZMQContext()
        let node = KeyBrokerClient(endpoint: broker.endpoint, context: context, timeout: .seconds(10))
        let provider = SimulatedEvidenceProvider(
            platformKey: f.platform, measurement: f.goodMeasurement, warn: { _ in })
        _ = try await node.attest(role: "shard-0", provider: provider, pinnedBrokerKey: broker.identity)

        let statePath = configuration.statePath
        let stateBefore = try FileManager.default.attributesOfItem(atPath: statePath)[.size] as! Int
        let entriesBefore = try KeyBrokerStore.readLedger(path: statePath).entries.count
        let stderrBefore = try String(contentsOf: broker.stderrPath, encoding: .utf8).split(separator: "\n").count

        let stop = Atomic<Bool>(false)
        let sent = Atomic<Int>(0)
        let busy = Atomic<Int>(0)
        let done = DispatchGroup()
        // 1. Nonce requests, pipelined 200 at a time.
        Self.attacker(done) {
            let socket = try Self.attackSocket(context, port: port)
            let request = try KMSRequest.nonce(role: "shard-0").encoded()
            while !stop.load(ordering: .relaxed) {
                for _ in 0..<200 { _ = try socket.send([[], request], dontWait: true) }
                sent.add(200, ordering: .relaxed)
                for _ in 0..<200 {
                    guard let reply = try socket.receive(timeout: .milliseconds(500))?.last else { break }
                    if case .error(KeyBrokerCore.ErrorCode.busy, _)? = try? KMSResponse(decoding: reply).status {
                        busy.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        // 2. Malformed, many-framed and oversize messages, without waiting for answers.
        Self.attacker(done) {
            let socket = try Self.attackSocket(context, port: port)
            let half = [UInt8](repeating: 0x7B, count: 600 * 1024)
            let shapes: [[[UInt8]]] = [
                [[], Array("{\"nonce\":{\"role\":\"shard-0\n keys released\"".utf8)],
                [[]] + Array(repeating: [0x7B], count: 500),
                [half, half],
                [[], [UInt8](repeating: 0xFF, count: 1 << 20)],
            ]
            var i = 0
            while !stop.load(ordering: .relaxed) {
                _ = try socket.send(shapes[i % shapes.count], dontWait: true)
                i += 1
                sent.add(1, ordering: .relaxed)
                while try socket.receiveIfReady() != nil {}
                if i % 8 == 0 { Thread.sleep(forTimeInterval: 0.001) }
            }
        }
        // 3. Attestations that must be refused: unknown nonces, and real nonces with untrusted evidence.
        Self.attacker(done) {
            let socket = try Self.attackSocket(context, port: port)
            let foreign = SimulatedEvidenceProvider(
                platformKey: PlatformKey.generate(), measurement: f.goodMeasurement, warn: { _ in })
            let evidence = try foreign.collect(reportData: [UInt8](repeating: 1, count: 64))
            let key = BoxKeyPair.generate().publicKey
            while !stop.load(ordering: .relaxed) {
                var nonce = SecureRandom.bytes(32)
                _ = try socket.send([[], try KMSRequest.nonce(role: "shard-1").encoded()])
                if let reply = try socket.receive(timeout: .seconds(1))?.last,
                    let granted = try? KMSResponse(decoding: reply).nonce
                {
                    nonce = granted.nonce
                }
                for _ in 0..<20 {
                    let attest = AttestRequest(
                        role: "shard-1", nonce: nonce, ephemeralPublicKey: key, evidence: evidence)
                    _ = try socket.send([[], try KMSRequest.attest(attest).encoded()])
                    _ = try socket.receive(timeout: .seconds(1))
                    sent.add(1, ordering: .relaxed)
                    nonce = SecureRandom.bytes(32)
                }
            }
        }

        // The node attests throughout; every attempt must succeed.
        var peakRSS = 0
        var releases = 0
        var slowest = Duration.zero
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(Self.floodSeconds) {
            let attempt = ContinuousClock.now
            let bundle = try await node.attest(role: "shard-0", provider: provider, pinnedBrokerKey: broker.identity)
            #expect(bundle.role == "shard-0")
            slowest = max(slowest, ContinuousClock.now - attempt)
            releases += 1
            peakRSS = max(peakRSS, broker.memoryKiB().rss)
            try await Task.sleep(for: .milliseconds(100))
        }
        stop.store(true, ordering: .relaxed)
        done.wait()
        let memory = broker.memoryKiB()
        let stderrLines = try String(contentsOf: broker.stderrPath, encoding: .utf8).split(separator: "\n")
        #expect(broker.terminate() == 0, "the broker did not stop cleanly")

        let stateAfter = try FileManager.default.attributesOfItem(atPath: statePath)[.size] as! Int
        let ledger = try KeyBrokerStore.readLedger(path: statePath)
        let report = LedgerVerifier.verify(ledger)
        #expect(report.isValid, "\(report.problems)")
        let refusalEntries = ledger.entries.suffix(from: entriesBefore).filter {
            if case .refusal = try? LogEntry(encoded: $0) { return true }
            return false
        }.count
        let floodLines = stderrLines.count - stderrBefore
        print(
            "flood: \(sent.load(ordering: .relaxed)) requests sent, \(busy.load(ordering: .relaxed)) told busy; "
                + "node: \(releases) releases, slowest \(slowest); broker peak RSS \(memory.peak) KiB "
                + "(sampled max \(peakRSS) KiB); state +\(stateAfter - stateBefore) bytes, "
                + "+\(ledger.entries.count - entriesBefore) entries (\(refusalEntries) refusals); "
                + "stderr +\(floodLines) lines")
        #expect(releases >= 20)
        #expect(sent.load(ordering: .relaxed) > 2_000)
        #expect(busy.load(ordering: .relaxed) > 500, "the nonce flood was never limited")
        #expect(memory.peak < Self.memoryCeilingKiB)
        let refusalBudget =
            KeyBrokerCore.refusalEntryBurst
            + Int((KeyBrokerCore.refusalEntriesPerSecond * (Self.floodSeconds + 2)).rounded(.up))
        #expect(refusalEntries <= refusalBudget)
        #expect(ledger.entries.count - entriesBefore == releases + refusalEntries)
        #expect(stateAfter - stateBefore <= Self.stateGrowthCeiling(releases: releases))
        // One notice per real release; the attackers' refusals and rejections only a few sampled lines.
        #expect(floodLines <= releases + 60)
        #expect(!stderrLines.contains { $0.contains("keys released") && $0.contains("shard-0\n") })
    }
}
