import Foundation
import Sodium
import Testing

@testable import Attestation

/// Collects warnings a provider emits, to prove it says it is a simulation.
private final class WarningSink: @unchecked Sendable {  // only touched on the test's own thread
    var messages: [String] = []
}

@Suite(.timeLimit(.minutes(1))) struct SimulatedVerifierTests {
    let platform = PlatformKey.generate()
    let nonce = SecureRandom.bytes(32)
    let ephemeral = BoxKeyPair.generate().publicKey
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let measurement = [UInt8](repeating: 0xAB, count: 48)

    var binding: [UInt8] { ReportData.binding(nonce: nonce, ephemeralPublicKey: ephemeral.bytes, role: "shard-0") }

    func expectations(allowDebug: Bool = false, measurements: [[UInt8]]? = nil) -> Expectations {
        Expectations(
            reportData: binding,
            policy: EvidencePolicy(measurements: ["reference-build"], allowDebug: allowDebug),
            measurements: measurements ?? [measurement])
    }

    func evidence(
        measurement: [UInt8]? = nil, reportData: [UInt8]? = nil, debug: Bool = false, at: Date? = nil,
        key: PlatformKey? = nil
    ) throws -> Evidence {
        let sink = WarningSink()
        let provider = SimulatedEvidenceProvider(
            platformKey: key ?? platform, measurement: measurement ?? self.measurement, debug: debug,
            clock: { [now] in at ?? now }, warn: { sink.messages.append($0) })
        #expect(sink.messages.count == 1 && sink.messages[0].hasPrefix("SIMULATED TEE"))
        return try provider.collect(reportData: reportData ?? binding)
    }

    var verifier: SimulatedVerifier { SimulatedVerifier(trustedPlatformKeys: [platform.publicKey]) }

    @Test func honestEvidencePassesAndSaysItIsSimulated() throws {
        let result = verifier.verify(try evidence(), expectations: expectations(), now: now)
        #expect(result.passed, "\(String(describing: result.failedCheck))")
        #expect(
            result.checks.map(\.name) == [
                "policy-constraints", "report-format", "signature", "platform-key-trusted", "report-data",
                "measurement", "debug",
                "freshness",
            ])
        #expect(result.checks.allSatisfy { $0.detail.hasPrefix("[SIMULATED]") })
        #expect(result.trustedClaims?.platform.hasPrefix("SIMULATED TEE") == true)
        #expect(result.claims?.measurement == Hex.encode(measurement))
        #expect(Array(try evidence().report.prefix(16)) == Array("SIMULATED TEE v1".utf8))
    }

    @Test func throughTheCompositeVerifier() throws {
        let composite = CompositeVerifier(verifiers: [.simulated: verifier])
        let e = expectations()
        let simulated = RolePolicy(evidence: ["simulated": EvidencePolicy(measurements: [Hex.encode(measurement)])])
        #expect(composite.verify(try evidence(), role: simulated, reportData: e.reportData, now: now).passed)
        let snpOnly = RolePolicy(evidence: ["sev-snp": e.policy])
        #expect(
            composite.verify(try evidence(), role: snpOnly, reportData: e.reportData, now: now).failedCheck?.name
                == "evidence-kind")
    }

    @Test func anotherBinarysMeasurementIsRefused() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let reference = dir.appendingPathComponent("sealpipe")
        let tampered = dir.appendingPathComponent("sealpipe-tampered")
        try Data("the reference build".utf8).write(to: reference)
        try Data("the reference build, patched".utf8).write(to: tampered)
        let config = Array("role: shard-0".utf8)
        let expected = try SimulatedTEE.measurement(executable: reference, configuration: config)
        let actual = try SimulatedTEE.measurement(executable: tampered, configuration: config)
        let result = verifier.verify(
            try evidence(measurement: actual), expectations: expectations(measurements: [expected]), now: now)
        #expect(result.failedCheck?.name == "measurement")
        #expect(
            verifier.verify(
                try evidence(measurement: expected), expectations: expectations(measurements: [expected]), now: now
            ).passed)
    }

    @Test func badPlatformSignatureIsRefused() throws {
        var e = try evidence()
        e.report[0x30] ^= 0x01  // inside the measurement, covered by the signature
        var accepting = expectations()
        accepting.measurements = [try SimulatedReport(bytes: e.report).measurement]
        #expect(verifier.verify(e, expectations: accepting, now: now).failedCheck?.name == "signature")
        var s = try evidence()
        s.report[SimulatedReport.byteCount - 1] ^= 0x80
        #expect(verifier.verify(s, expectations: expectations(), now: now).failedCheck?.name == "signature")
    }

    @Test func untrustedPlatformKeyIsRefused() throws {
        let rogue = PlatformKey.generate()
        let result = verifier.verify(try evidence(key: rogue), expectations: expectations(), now: now)
        #expect(result.failedCheck?.name == "platform-key-trusted")
        #expect(result.check(named: "signature")?.passed == true)
        // Swapping in the trusted public key without its secret breaks the signature instead.
        var swapped = try evidence(key: rogue)
        swapped.report.replaceSubrange(0x90..<0xB0, with: platform.publicKey.bytes)
        #expect(verifier.verify(swapped, expectations: expectations(), now: now).failedCheck?.name == "signature")
    }

    /// One platform key per host: a key the broker trusts for another host's roles does not
    /// vouch for this role, even though it is trusted.
    @Test func aPlatformKeyTrustedForAnotherHostIsRefusedForThisRole() throws {
        let otherHost = PlatformKey.generate()
        let both = SimulatedVerifier(trustedPlatformKeys: [platform.publicKey, otherHost.publicKey])
        var thisHost = expectations()
        thisHost.platformKeys = [platform.publicKey.bytes]
        let forged = both.verify(try evidence(key: otherHost), expectations: thisHost, now: now)
        #expect(forged.failedCheck?.name == "platform-key-host")
        #expect(forged.check(named: "platform-key-trusted")?.passed == true)
        #expect(both.verify(try evidence(key: platform), expectations: thisHost, now: now).passed)
    }

    @Test func reportDataBoundToAnotherKeyNonceOrRoleIsRefused() throws {
        let otherKey = ReportData.binding(
            nonce: nonce, ephemeralPublicKey: BoxKeyPair.generate().publicKey.bytes, role: "shard-0")
        let otherNonce = ReportData.binding(
            nonce: SecureRandom.bytes(32), ephemeralPublicKey: ephemeral.bytes, role: "shard-0")
        let otherRole = ReportData.binding(nonce: nonce, ephemeralPublicKey: ephemeral.bytes, role: "shard-1")
        for data in [otherKey, otherNonce, otherRole] {
            let result = verifier.verify(try evidence(reportData: data), expectations: expectations(), now: now)
            #expect(result.failedCheck?.name == "report-data")
        }
    }

    @Test func debugWherePolicyForbidsItIsRefused() throws {
        #expect(
            verifier.verify(try evidence(debug: true), expectations: expectations(), now: now).failedCheck?.name
                == "debug")
        #expect(
            verifier.verify(try evidence(debug: true), expectations: expectations(allowDebug: true), now: now).passed)
    }

    @Test func staleOrFutureTimestampIsRefused() throws {
        let stale = try evidence(at: now.addingTimeInterval(-301))
        #expect(verifier.verify(stale, expectations: expectations(), now: now).failedCheck?.name == "freshness")
        let future = try evidence(at: now.addingTimeInterval(31))
        #expect(verifier.verify(future, expectations: expectations(), now: now).failedCheck?.name == "freshness")
        let recent = try evidence(at: now.addingTimeInterval(-299))
        #expect(verifier.verify(recent, expectations: expectations(), now: now).passed)
    }

    @Test func malformedReportsAreRefused() throws {
        let good = try evidence()
        for bad in [Array(good.report.dropLast()), good.report + [0], []] {
            let result = verifier.verify(
                Evidence(kind: .simulated, report: bad), expectations: expectations(), now: now)
            #expect(result.failedCheck?.name == "report-format")
        }
        var magic = good
        magic.report[0] = UInt8(ascii: "X")
        #expect(verifier.verify(magic, expectations: expectations(), now: now).failedCheck?.name == "report-format")
        var flags = good
        flags.report[0x10] = 0x02
        #expect(verifier.verify(flags, expectations: expectations(), now: now).failedCheck?.name == "report-format")
        #expect(throws: AttestationError.self) {
            try SimulatedEvidenceProvider(platformKey: platform, measurement: measurement, warn: { _ in })
                .collect(reportData: [1, 2, 3])
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct PlatformKeyTests {
    func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("platform-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func createWritesBothFilesAndLoadsBack() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let created = try PlatformKey.create(in: dir)
        let secretPath = dir.appendingPathComponent("platform.key").path
        let mode = try FileManager.default.attributesOfItem(atPath: secretPath)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let loaded = try PlatformKey.load(from: dir.appendingPathComponent("platform.key"))
        #expect(loaded.publicKey == created.publicKey)
        #expect(try PlatformKey.loadPublicKey(from: dir.appendingPathComponent("platform.pub")) == created.publicKey)
        let message = Array("report".utf8)
        #expect(created.publicKey.isValidSignature(loaded.keyPair.signature(for: message), for: message))
    }

    @Test func refusesToOverwrite() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try PlatformKey.create(in: dir)
        #expect(throws: AttestationError.self) { try PlatformKey.create(in: dir) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent("platform.pub"))
        #expect(throws: AttestationError.self) { try PlatformKey.create(in: dir) }
        #expect(try PlatformKey.load(from: dir.appendingPathComponent("platform.key")).publicKey == first.publicKey)
    }

    @Test func refusesAKeyFileOthersCanRead() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try PlatformKey.create(in: dir)
        let path = dir.appendingPathComponent("platform.key").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: AttestationError.self) { try PlatformKey.load(from: URL(fileURLWithPath: path)) }
    }

    @Test func refusesMalformedFiles() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = dir.appendingPathComponent("platform.key")
        try Data(repeating: 0, count: 40).write(to: key)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key.path)
        #expect(throws: AttestationError.self) { try PlatformKey.load(from: key) }
        #expect(throws: AttestationError.self) { try PlatformKey.parsePublicKey("abcd") }
        #expect(throws: AttestationError.self) { try PlatformKey.parsePublicKey(String(repeating: "zz", count: 32)) }
    }
}
