import Attestation
import BrokerClient
import Foundation
import KeyBroker
import Sodium
import Synchronization
import Testing
import Trust
import ZeroMQ

/// The real `sealpipe kms` binary, killed with SIGKILL and restarted.
@Suite("Key broker process", .timeLimit(.minutes(1)))
struct KeyBrokerProcessTests {
    static let binary: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/sealpipe")

    static var binaryAvailable: Bool { FileManager.default.isExecutableFile(atPath: binary.path) }

    /// A running `sealpipe kms` and the line it announced.
    final class Broker: Sendable {
        let process: Process
        let endpoint: String
        let identity: String

        init(config: URL) throws {
            let process = Process()
            process.executableURL = KeyBrokerProcessTests.binary
            process.arguments = ["kms", "--config", config.path]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            self.process = process
            // Wait for the announcement, not for a fixed time; the suite's time limit bounds it.
            var line: [UInt8] = []
            while true {
                let byte = output.fileHandleForReading.readData(ofLength: 1)
                guard let first = byte.first else {
                    throw KeyBrokerError.configuration("sealpipe kms exited before announcing")
                }
                if first == UInt8(ascii: "\n") { break }
                line.append(first)
            }
            let words = String(decoding: line, as: UTF8.self).split(separator: " ").map(String.init)
            guard words.count == 5, words[0] == "kms", words[1] == "listening" else {
                throw KeyBrokerError.configuration("unexpected announcement")
            }
            endpoint = words[2]
            identity = words[4]
        }

        func kill() {
            guard process.isRunning else { return }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        func terminate() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    @Test(
        "killed with SIGKILL and restarted, sealpipe kms serves the same identity, epoch and log",
        .enabled(if: binaryAvailable, "build the sealpipe binary first (swift build)"))
    func sigkill() async throws {
        let f = try BrokerFixture()
        var configuration = f.configuration
        configuration.policy.roles["preprocessor"]!.evidence["simulated"]!.measurements = [
            Hex.encode(f.goodMeasurement)
        ]
        configuration.referenceMeasurements = [:]
        let configURL = f.directory.appendingPathComponent("kms.json")
        try JSONEncoder().encode(configuration).write(to: configURL)
        let provider = SimulatedEvidenceProvider(
            platformKey: f.platform, measurement: f.goodMeasurement, warn: { _ in })
        let context = try ZMQContext()

        let first = try Broker(config: configURL)
        defer { first.kill() }
        let client1 = KeyBrokerClient(endpoint: first.endpoint, context: context, timeout: .seconds(10))
        let pinned = try SigningPublicKey(bytes: try #require(Hex.decode(first.identity)))
        let bundle1 = try await client1.attest(role: "shard-0", provider: provider, pinnedBrokerKey: pinned)
        let head1 = try await client1.treeHead()
        first.kill()

        let second = try Broker(config: configURL)
        defer { second.kill() }
        #expect(second.identity == first.identity)
        let client2 = KeyBrokerClient(endpoint: second.endpoint, context: context, timeout: .seconds(10))
        let bundle2 = try await client2.attest(role: "shard-0", provider: provider, pinnedBrokerKey: pinned)
        #expect(bundle2.schedule == bundle1.schedule)
        #expect(bundle2.boxKeys.first?.keyPair.publicKey == bundle1.boxKeys.first?.keyPair.publicKey)
        #expect(bundle2.signingKeys.first?.keyPair.publicKey == bundle1.signingKeys.first?.keyPair.publicKey)
        let head2 = try await client2.treeHead()
        #expect(head2.treeSize == head1.treeSize + 1)
        let proof = try await client2.send(.consistencyProof(from: head1.treeSize, to: head2.treeSize)).proof ?? []
        try MerkleProof.verifyConsistency(
            size1: head1.treeSize, size2: head2.treeSize, root1: head1.rootHash, root2: head2.rootHash, proof: proof)
        #expect(second.terminate() == 0)

        let report = LedgerVerifier.verify(try KeyBrokerStore.readLedger(path: configuration.statePath))
        #expect(report.isValid, "\(report.problems)")
        #expect(report.entryCounts["key-release"] == 2)
        #expect(report.entryCounts["policy-change"] == 1)
        #expect(report.entryCounts["epoch-rotation"] == 1)
    }
}
