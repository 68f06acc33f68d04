import Attestation
import Foundation
import Sodium
import Testing
import Trust

@testable import KeyBroker

@Suite("Key broker: bounds on what a peer can make it do")
struct KeyBrokerBoundsTests {
    func broker(_ f: BrokerFixture, logs: LogCapture) throws -> KeyBrokerCore {
        try KeyBrokerCore(
            configuration: f.configuration, store: try f.openStore(), verifier: f.verifier,
            clock: { [clock = f.clock] in clock.now }, logger: logs.logger)
    }

    @Test("one address holding its nonce quota gets busy; another address still gets a nonce and its keys")
    func perPeerNonces() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        for _ in 0..<KeyBrokerCore.maximumNoncesPerPeer {
            #expect(broker.handle(.nonce(role: "shard-0"), peer: "10.0.0.66").status == .ok)
        }
        let busy = broker.handle(.nonce(role: "shard-0"), peer: "10.0.0.66")
        guard case .error(let code, _) = busy.status else {
            Issue.record("a peer over its quota got \(busy.status)")
            return
        }
        #expect(code == KeyBrokerCore.ErrorCode.busy)
        #expect(broker.metrics.rejections == ["nonce-peer-quota": 1])

        let nonce = try #require(broker.handle(.nonce(role: "shard-0"), peer: "10.0.0.7").nonce).nonce
        #expect(try f.attest(broker, role: "shard-0", nonce: nonce).0.status == .ok)
        // The flooding address's nonces expire after the TTL and it is served again.
        f.clock.advance(by: f.configuration.nonceTTLSeconds)
        #expect(broker.handle(.nonce(role: "shard-0"), peer: "10.0.0.66").status == .ok)
        f.clock.advance(by: 2 * f.configuration.nonceTTLSeconds)
        broker.purgeNonces()
        #expect(broker.nonceRecordCount == 0)
    }

    @Test("a flood of refused attestations: each counted, a bounded sample logged, a few warning lines")
    func refusalFlood() throws {
        let f = try BrokerFixture()
        let logs = LogCapture()
        let broker = try broker(f, logs: logs)
        let entriesBefore = try broker.store.logSize()
        let evidence = try f.provider().collect(reportData: [UInt8](repeating: 0, count: 64))
        let flood = 500
        for _ in 0..<flood {
            let response = broker.handle(
                .attest(
                    AttestRequest(
                        role: "shard-0", nonce: SecureRandom.bytes(32),
                        ephemeralPublicKey: BoxKeyPair.generate().publicKey, evidence: evidence)))
            #expect(response.refusedCheck == "nonce-unknown")
        }
        #expect(broker.metrics.refusals == ["nonce-unknown": UInt64(flood)])
        let burst = KeyBrokerCore.refusalEntryBurst
        #expect(try broker.store.logSize() - entriesBefore == UInt64(burst))
        #expect(broker.metrics.refusalsUnlogged == UInt64(flood - burst))
        let warnings = logs.captured.filter { $0.contains("key release refused") }
        #expect(warnings.count == 5)
        // The budget refills: 50 s later, 10 more refusals may be logged.
        f.clock.advance(by: 50)
        for _ in 0..<20 {
            _ = broker.handle(
                .attest(
                    AttestRequest(
                        role: "shard-0", nonce: SecureRandom.bytes(32),
                        ephemeralPublicKey: BoxKeyPair.generate().publicKey, evidence: evidence)))
        }
        #expect(try broker.store.logSize() - entriesBefore == UInt64(burst + 10))
        let later = logs.captured.filter { $0.contains("key release refused") }
        #expect(later.count == 10)
        #expect(later.count > 5 && later[5].contains("suppressedSinceLast=495"))
        #expect(broker.metrics.exposition().contains("sealpipe_kms_refusals_unlogged_total \(flood - burst + 10)"))
        #expect(LedgerVerifier.verify(try KeyBrokerStore.readLedger(path: f.configuration.statePath)).isValid)
    }

    @Test("unknown, oversize and forged roles leave no log entry and reach no log line unescaped")
    func hostileRoles() throws {
        let f = try BrokerFixture()
        let logs = LogCapture()
        let broker = try broker(f, logs: logs)
        let entriesBefore = try broker.store.entries()
        let forged = "shard-0\n2026-11-29T00:00:00+0000 notice sealpipe.kms: role=shard-0 keys released"
        let huge = String(repeating: "r", count: 70_000)
        let nonce = try #require(broker.handle(.nonce(role: "shard-0")).nonce).nonce
        let evidence = try f.provider().collect(reportData: [UInt8](repeating: 0, count: 64))
        for role in [forged, huge, "\u{1B}[2Jgateway"] {
            #expect(broker.handle(.nonce(role: role)).refusedCheck == "unknown-role")
            let response = broker.handle(
                .attest(
                    AttestRequest(
                        role: role, nonce: nonce, ephemeralPublicKey: BoxKeyPair.generate().publicKey,
                        evidence: evidence)))
            #expect(response.refusedCheck == "unknown-role")
        }
        // A nonce of the wrong length is not a well-formed request either.
        let short = broker.handle(
            .attest(
                AttestRequest(
                    role: "shard-0", nonce: [1, 2, 3], ephemeralPublicKey: BoxKeyPair.generate().publicKey,
                    evidence: evidence)))
        #expect(short.refusedCheck == "nonce-unknown")
        #expect(try broker.store.entries() == entriesBefore)
        #expect(broker.metrics.refusals["unknown-role"] == 6)
        for line in logs.captured {
            #expect(!line.contains("\n"), "a log line holds a newline: \(line.prefix(120))")
            #expect(!line.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
            #expect(line.utf8.count < 400, "a log line of \(line.utf8.count) bytes")
        }
        #expect(logs.captured.contains { $0.contains(#"role=shard-0\u{a}2026"#) })
        #expect(LedgerVerifier.verify(try KeyBrokerStore.readLedger(path: f.configuration.statePath)).isValid)
    }

    @Test("the store refuses an entry the ledger reader could not decode, and the log still verifies")
    func writerMatchesReader() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let size = try broker.store.logSize()
        let now = UInt64(f.clock.now.timeIntervalSince1970 * 1000)
        let tooLong = LogEntry.refusal(
            .init(
                time: 1, role: String(repeating: "x", count: LogEntry.maximumStringBytes + 1), check: "c",
                evidenceKind: "simulated", ephemeralKeyFingerprint: [], reason: ""))
        #expect(throws: KeyBrokerError.self) { try broker.store.append(tooLong, now: now) }
        let justFits = LogEntry.refusal(
            .init(
                time: 1, role: String(repeating: "x", count: LogEntry.maximumStringBytes), check: "c",
                evidenceKind: "simulated", ephemeralKeyFingerprint: [], reason: ""))
        try broker.store.append(justFits, now: now)
        #expect(try broker.store.logSize() == size + 1)
        let report = LedgerVerifier.verify(try KeyBrokerStore.readLedger(path: f.configuration.statePath))
        #expect(report.isValid, "\(report.problems)")
    }
}
