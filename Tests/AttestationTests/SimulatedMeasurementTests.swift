import Crypto
import Foundation
import Testing

@testable import Attestation

@Suite(.timeLimit(.minutes(1))) struct SimulatedMeasurementTests {
    @Test func followsTheDocumentedRule() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sim-measure-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let binary = dir.appendingPathComponent("sealpipe")
        try Data("binary-a".utf8).write(to: binary)

        let measured = try SimulatedTEE.measurement(executable: binary, configuration: Array("role: shard-0".utf8))
        var expected = Crypto.SHA384()
        expected.update(data: Array("sealpipe-sim-measurement-v1".utf8))
        expected.update(data: Array(Crypto.SHA384.hash(data: Array("binary-a".utf8))))
        expected.update(data: Array(Crypto.SHA384.hash(data: Array("role: shard-0".utf8))))
        #expect(measured == Array(expected.finalize()))

        let digest = try SimulatedTEE.executableDigest(of: binary)
        #expect(digest == Array(Crypto.SHA384.hash(data: Array("binary-a".utf8))))
        #expect(
            SimulatedTEE.measurement(executableDigest: digest, configuration: Array("role: shard-0".utf8)) == measured)

        let otherConfig = try SimulatedTEE.measurement(executable: binary, configuration: Array("role: shard-1".utf8))
        #expect(otherConfig != measured)
        try Data("binary-b".utf8).write(to: binary)
        #expect(
            try SimulatedTEE.measurement(executable: binary, configuration: Array("role: shard-0".utf8)) != measured)
    }

    @Test func missingExecutableIsAnErrorNamingThePath() {
        let missing = URL(fileURLWithPath: "/nonexistent/sealpipe")
        #expect(throws: AttestationError.self) { try SimulatedTEE.measurement(executable: missing, configuration: []) }
    }

    @Test func measuresTheRunningExecutable() throws {
        let measured = try SimulatedTEE.measurement(executable: SimulatedTEE.runningExecutable, configuration: [])
        #expect(measured.count == SimulatedTEE.measurementByteCount)
    }
}
