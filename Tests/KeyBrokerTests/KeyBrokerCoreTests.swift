import Attestation
import Foundation
import KeyBroker
import Sodium
import Testing
import Trust

@Suite("Key broker: attestation and key release")
struct KeyBrokerCoreTests {
    @Test("an attested shard-0 gets its own keys, its neighbours' public keys and only its own weight key")
    func release() throws {
        let f = try BrokerFixture()
        let store = try f.openStore()
        let shard0Key = try store.registerWeightKey(role: "shard-0", now: f.clock.now)
        let shard1Key = try store.registerWeightKey(role: "shard-1", now: f.clock.now)
        let broker = try f.openBroker()
        let (response, ephemeral, _) = try f.attest(broker, role: "shard-0")
        #expect(response.status == .ok)
        let bundle = try KeyBundle.open(response.sealedBundle!, with: ephemeral)
        #expect(bundle.role == "shard-0")
        #expect(bundle.pipelineID == "test-pipeline")
        #expect(bundle.schedule.epoch == 1)
        #expect(bundle.boxKeys.map(\.epoch) == [1])
        #expect(bundle.boxKeys[0].keyPair.publicKey == (try store.boxKeyPair(role: "shard-0", epoch: 1))!.publicKey)
        #expect(bundle.signingKeys.map(\.epoch) == [1])
        let signing = try store.signingKeyPair(role: "shard-0", epoch: 1)
        #expect(bundle.signingKeys[0].keyPair.publicKey == signing.publicKey)
        #expect(bundle.certificateProblem(pinnedBrokerKey: broker.identityPublicKey) == nil)
        #expect(bundle.neighbours.map(\.role) == ["preprocessor", "shard-1"])
        #expect(
            bundle.neighbour("shard-1")?.boxKeys.first?.key
                == (try store.boxKeyPair(role: "shard-1", epoch: 1))!.publicKey)
        #expect(bundle.weightKey!.constantTimeEquals(shard0Key))
        #expect(!bundle.weightKey!.constantTimeEquals(shard1Key))

        // The release is logged by fingerprint; no secret the bundle holds appears in the log.
        let entries = try store.entries()
        guard case .keyRelease(let release) = try LogEntry(encoded: entries.last!) else {
            Issue.record("last entry is not a key release")
            return
        }
        #expect(release.role == "shard-0" && release.epoch == 1 && release.includesWeightKey)
        #expect(release.measurement == Hex.encode(f.goodMeasurement))
        #expect(release.ephemeralKeyFingerprint == SHA256.hash(ephemeral.publicKey.bytes))
        let secrets = [
            shard0Key.copyBytes(), shard1Key.copyBytes(), bundle.boxKeys[0].keyPair.secretKey.secret.copyBytes(),
            Array(bundle.signingKeys[0].keyPair.secretKey.secret.copyBytes().prefix(32)),
        ]
        let log = entries.flatMap { $0 }
        for secret in secrets { #expect(!contains(log, secret)) }
    }

    @Test("a preprocessor bundle carries no weight key; the reference-build measurement is resolved")
    func noWeightKeyForNonWorkers() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        #expect(
            broker.policy.roles["preprocessor"]?.evidence["simulated"]?.measurements == [Hex.encode(f.goodMeasurement)])
        let (response, ephemeral, _) = try f.attest(broker, role: "preprocessor")
        let bundle = try KeyBundle.open(response.sealedBundle!, with: ephemeral)
        #expect(bundle.weightKey == nil)
        #expect(bundle.neighbours.map(\.role) == ["shard-0"])
    }

    @Test("a reused, an expired and an unknown nonce are refused by name")
    func nonces() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let (first, _, nonce) = try f.attest(broker, role: "shard-0")
        #expect(first.status == .ok)
        #expect(try f.attest(broker, role: "shard-0", nonce: nonce).0.refusedCheck == "nonce-reused")

        let stale = broker.handle(.nonce(role: "shard-0")).nonce!
        #expect(stale.expiresAt == UInt64(f.clock.now.timeIntervalSince1970 * 1000) + 60_000)
        f.clock.advance(by: 61)
        #expect(try f.attest(broker, role: "shard-0", nonce: stale.nonce).0.refusedCheck == "nonce-expired")
        #expect(try f.attest(broker, role: "shard-0", nonce: stale.nonce).0.refusedCheck == "nonce-reused")
        #expect(try f.attest(broker, role: "shard-0", nonce: SecureRandom.bytes(32)).0.refusedCheck == "nonce-unknown")
    }

    @Test("evidence bound to another ephemeral key is refused (report-data)")
    func otherEphemeralKey() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let response = try f.attest(broker, role: "shard-0", boundKey: BoxKeyPair.generate().publicKey).0
        #expect(response.refusedCheck == "report-data")
        #expect(response.sealedBundle == nil)
    }

    @Test("a low-order ephemeral key is refused before anything is sealed to it")
    func lowOrderEphemeralKey() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let zero = try BoxPublicKey(bytes: [UInt8](repeating: 0, count: 32))
        let nonce = broker.handle(.nonce(role: "shard-0")).nonce!.nonce
        let evidence = try f.provider().collect(
            reportData: ReportData.binding(nonce: nonce, ephemeralPublicKey: zero.bytes, role: "shard-0"))
        let response = broker.handle(
            .attest(AttestRequest(role: "shard-0", nonce: nonce, ephemeralPublicKey: zero, evidence: evidence)))
        #expect(response.refusedCheck == "ephemeral-key")
    }

    @Test("a bad platform signature and an untrusted platform key are refused")
    func platform() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let tampered = try f.attest(broker, role: "shard-0") { $0.report[$0.report.count - 1] ^= 1 }.0
        #expect(tampered.refusedCheck == "signature")
        let untrusted = try f.attest(broker, role: "shard-0", provider: f.provider(platform: PlatformKey.generate())).0
        #expect(untrusted.refusedCheck == "platform-key-trusted")
    }

    @Test("a node whose binary differs from the policy's measurement is refused")
    func differentMeasurement() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        var other = f.goodMeasurement
        other[0] ^= 1
        #expect(
            try f.attest(broker, role: "shard-0", provider: f.provider(measurement: other)).0.refusedCheck
                == "measurement")
        #expect(
            try f.attest(broker, role: "preprocessor", provider: f.provider(measurement: other)).0.refusedCheck
                == "measurement")
    }

    @Test("debug is refused where the policy forbids it and accepted where it allows it")
    func debug() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        #expect(try f.attest(broker, role: "shard-0", provider: f.provider(debug: true)).0.refusedCheck == "debug")
        #expect(try f.attest(broker, role: "postprocessor", provider: f.provider(debug: true)).0.status == .ok)
    }

    @Test("a node attested as shard-0 asking for shard-1's keys (or an unknown role) is refused")
    func otherRole() throws {
        let f = try BrokerFixture()
        let store = try f.openStore()
        _ = try store.registerWeightKey(role: "shard-1", now: f.clock.now)
        let broker = try f.openBroker()
        let response = try f.attest(broker, role: "shard-1", evidenceRole: "shard-0").0
        #expect(response.refusedCheck == "report-data")
        #expect(response.sealedBundle == nil)
        // An unknown role gets no nonce, and evidence presented for it anyway is refused by name.
        #expect(broker.handle(.nonce(role: "gateway")).refusedCheck == "unknown-role")
        let nonce = broker.handle(.nonce(role: "shard-0")).nonce!.nonce
        #expect(try f.attest(broker, role: "gateway", nonce: nonce).0.refusedCheck == "unknown-role")
        #expect(try f.attest(broker, role: "shard-0") { $0.kind = .sevSNP }.0.refusedCheck == "evidence-kind")
    }

    @Test("every refusal is logged with the check that failed")
    func refusalsLogged() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        _ = try f.attest(broker, role: "shard-0", provider: f.provider(debug: true))
        _ = try f.attest(broker, role: "shard-0", nonce: SecureRandom.bytes(32))
        let refusals = try f.openStore().entries().compactMap { bytes -> LogEntry.Refusal? in
            if case .refusal(let r) = try LogEntry(encoded: bytes) { return r }
            return nil
        }
        #expect(refusals.map(\.check) == ["debug", "nonce-unknown"])
        #expect(broker.metrics.refusals == ["debug": 1, "nonce-unknown": 1])
        _ = try f.attest(broker, role: "shard-0")
        #expect(broker.metrics.releases == ["shard-0": 1])
        let text = broker.metrics.exposition()
        #expect(text.contains("sealpipe_kms_refusals_total{check=\"debug\"} 1"))
        #expect(text.contains("sealpipe_kms_key_releases_total{role=\"shard-0\"} 1"))
        #expect(text.contains("sealpipe_kms_nonces_issued_total 2"))
        // Refusals are not releases: one release was timed.
        #expect(text.contains("sealpipe_kms_key_release_seconds_count 1"))
        #expect(refusals.allSatisfy { $0.role == "shard-0" && $0.evidenceKind == "simulated" })
    }

    @Test("malformed and oversize requests get an error reply, not a crash")
    func malformed() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        for bytes in [
            [UInt8](), Array("{".utf8), Array(#"{"attest":{}}"#.utf8), [UInt8](repeating: 0x20, count: (1 << 20) + 1),
        ] {
            let reply = try KMSResponse(decoding: broker.handle(requestBytes: bytes))
            #expect(
                reply.status == .error(code: KeyBrokerCore.ErrorCode.malformedRequest, message: reply.statusMessage))
        }
    }

    func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if Array(haystack[start..<start + needle.count]) == needle { return true }
        }
        return false
    }
}

extension KMSResponse {
    var statusMessage: String {
        if case .error(_, let message) = status { return message }
        return ""
    }
}
