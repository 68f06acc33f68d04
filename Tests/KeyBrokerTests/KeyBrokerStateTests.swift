import Attestation
import Foundation
import KeyBroker
import Sodium
import TestVectors
import Testing
import Trust

@Suite("Key broker: state, epochs, manifest and log")
struct KeyBrokerStateTests {
    @Test("a broker reopened after a crash serves the same identity, epochs, keys and log")
    func reopen() throws {
        let f = try BrokerFixture()
        let first = try f.openBroker()
        _ = try f.attest(first, role: "shard-0")
        let identity = first.identityPublicKey
        let epochs = try first.store.epochs()
        let frontKey = try first.store.boxKeyPair(role: "preprocessor", epoch: 1)!.publicKey
        let entries = try first.store.entries()
        let heads = try first.store.treeHeads()
        // No clean shutdown: the first broker is simply abandoned, as after SIGKILL.
        let second = try f.openBroker()
        #expect(second.identityPublicKey == identity)
        #expect(try second.store.epochs() == epochs)
        #expect(try second.store.boxKeyPair(role: "preprocessor", epoch: 1)!.publicKey == frontKey)
        #expect(try second.store.entries() == entries)
        #expect(try second.store.treeHeads() == heads)
        #expect(try second.manifest().frontKey == EpochPublicKey(epoch: 1, key: frontKey))
        let (response, ephemeral, _) = try f.attest(second, role: "shard-0")
        #expect(try KeyBundle.open(response.sealedBundle!, with: ephemeral).schedule.epoch == 1)
        #expect(try second.store.entries().count == entries.count + 1)
        #expect(
            LedgerVerifier.verify(
                try KeyBrokerStore.readLedger(path: f.configuration.statePath), pinnedIdentity: identity
            ).isValid)
    }

    @Test("first start logs the policy; a restart with a different policy logs a change naming the old one")
    func policyChange() throws {
        let f = try BrokerFixture()
        let first = try f.openBroker()
        let firstDigest = first.policy.digest
        let policyEntries = { (store: KeyBrokerStore) in
            try store.entries().compactMap { bytes -> LogEntry.PolicyChange? in
                if case .policyChange(let change) = try LogEntry(encoded: bytes) { return change }
                return nil
            }
        }
        #expect(try policyEntries(first.store).count == 1)
        _ = try f.openBroker()
        #expect(try policyEntries(first.store).count == 1)

        var changed = f.configuration
        changed.policy.roles["shard-1"]!.evidence["simulated"]!.allowDebug = true
        let second = try f.openBroker(configuration: changed)
        let changes = try policyEntries(second.store)
        #expect(changes.count == 2)
        #expect(changes[1].previousPolicyDigest == firstDigest)
        #expect(SHA256.hash(changes[1].policy) == second.policy.digest)
        let report = ManifestVerifier.verify(
            try second.manifest(), pinnedBrokerKey: second.identityPublicKey,
            expectedPolicyDigest: second.policy.digest, allowSimulated: true,
            now: f.clock.now)
        #expect(report.isValid, "\(report.results)")
        #expect(report.policy?.roles["shard-1"]?.evidence["simulated"]?.allowDebug == true)
    }

    @Test("epochs rotate on schedule; the previous epoch's keys are released only during grace")
    func rotation() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        f.clock.advance(by: 599)
        #expect(try broker.bundle(for: "shard-0").boxKeys.map(\.epoch) == [1])
        f.clock.advance(by: 2)
        let during = try broker.bundle(for: "shard-0")
        #expect(during.boxKeys.map(\.epoch) == [2, 1])
        #expect(during.neighbour("preprocessor")?.boxKeys.map(\.epoch) == [2, 1])
        #expect(try broker.manifest().previousFrontKey?.epoch == 1)
        f.clock.advance(by: 60)
        #expect(try broker.bundle(for: "shard-0").boxKeys.map(\.epoch) == [2])
        #expect(try broker.manifest().previousFrontKey == nil)
        // Down for three epochs: the next one starts on the schedule's boundary.
        f.clock.advance(by: 1800)
        let epochs = try broker.store.epochs()
        _ = try broker.rotateIfDue()
        let latest = try broker.store.epochs().last!
        #expect(latest.epoch == epochs.last!.epoch + 1)
        #expect((latest.startsAt - epochs.first!.startsAt) % 600_000 == 0)
        #expect(try broker.store.boxKeyPair(role: "shard-0", epoch: 1) == nil)
        let rotations = try broker.store.entries().filter {
            if case .epochRotation = try LogEntry(encoded: $0) { return true }
            return false
        }
        #expect(rotations.count == 3)
    }

    @Test("the manifest verifies against the broker identity and the policy's measurements")
    func manifest() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let manifest = try broker.manifest()
        let measurement = Hex.encode(f.goodMeasurement)
        let expected = Dictionary(uniqueKeysWithValues: f.configuration.roles.map { ($0.name, Set([measurement])) })
        let report = ManifestVerifier.verify(
            manifest, pinnedBrokerKey: broker.identityPublicKey, expectedMeasurements: expected, allowSimulated: true,
            now: f.clock.now)
        #expect(report.isValid, "\(report.results)")
        #expect(manifest.frontRole == "preprocessor")
        #expect(manifest.resultSigner == (try broker.store.signingKeyPair(role: "postprocessor", epoch: 1)).publicKey)
        #expect(manifest.policySummary == RolePolicySummary.summaries(of: broker.policy))
        #expect(manifest.rolesAcceptingSimulatedEvidence == ["postprocessor", "preprocessor", "shard-0", "shard-1"])
        #expect(
            ManifestVerifier.verify(
                manifest, pinnedBrokerKey: SigningKeyPair.generate().publicKey, allowSimulated: true, now: f.clock.now
            ).failedChecks == [.signature, .treeHeadSignature])
        // The fixture's policy accepts only simulated evidence: a client that did not allow it refuses.
        #expect(
            ManifestVerifier.verify(manifest, pinnedBrokerKey: broker.identityPublicKey, now: f.clock.now).failedChecks
                == [.simulatedEvidence])
        f.clock.advance(by: 301)
        #expect(
            ManifestVerifier.verify(
                manifest, pinnedBrokerKey: broker.identityPublicKey, allowSimulated: true, now: f.clock.now
            ).failedChecks == [.expiry])
    }

    @Test("a manifest expires at its epoch's end plus grace when that comes before its time to live")
    func manifestExpiryClamped() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let epoch = try broker.rotateIfDue()
        let grace = UInt64(f.configuration.graceSeconds * 1000)
        let ttl = UInt64(f.configuration.manifestTTLSeconds * 1000)
        // Early in the epoch the time to live decides…
        let early = try broker.manifest()
        #expect(early.expiresAt == early.issuedAt + ttl)
        #expect(early.epochEndsAt == epoch.endsAt && early.graceMilliseconds == grace)
        // …near its end, the epoch does: the manifest never outlives the front key it names.
        f.clock.advance(by: f.configuration.epochSeconds - 1)
        let late = try broker.manifest()
        #expect(late.frontKey.epoch == epoch.epoch)
        #expect(late.issuedAt + ttl > epoch.endsAt + grace)
        #expect(late.expiresAt == epoch.endsAt + grace)
        let report = ManifestVerifier.verify(
            late, pinnedBrokerKey: broker.identityPublicKey, allowSimulated: true, now: f.clock.now)
        #expect(report.isValid, "\(report.results)")
    }

    @Test("the ledger verifies offline; altered entries or tree heads do not")
    func ledger() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        _ = try f.attest(broker, role: "shard-0")
        _ = try f.attest(broker, role: "shard-0", nonce: SecureRandom.bytes(32))
        _ = try broker.store.registerWeightKey(role: "shard-1", now: f.clock.now)
        let ledger = try KeyBrokerStore.readLedger(path: f.configuration.statePath)
        let report = LedgerVerifier.verify(ledger)
        #expect(report.isValid, "\(report.problems)")
        #expect(
            report.entryCounts == [
                "policy-change": 1, "epoch-rotation": 1, "key-release": 1, "refusal": 1, "weight-key-registration": 1,
            ])
        #expect(report.treeHeadCount == 5)

        var altered = ledger
        altered.entries[2][5] ^= 1
        #expect(!LedgerVerifier.verify(altered).isValid)
        var forgedHead = ledger
        forgedHead.treeHeads[1].timestamp += 1
        #expect(LedgerVerifier.verify(forgedHead).problems.contains { $0.contains("signature") })
        var dropped = ledger
        dropped.entries.removeLast()
        #expect(!LedgerVerifier.verify(dropped).isValid)
        #expect(!LedgerVerifier.verify(ledger, pinnedIdentity: SigningKeyPair.generate().publicKey).isValid)
        let json = try JSONEncoder().encode(ledger)
        #expect(try JSONDecoder().decode(LedgerExport.self, from: json) == ledger)
    }

    @Test("a root key file that others can read is refused with a clear error; a wrong root key cannot open the state")
    func rootKey() throws {
        let f = try BrokerFixture()
        _ = try f.openBroker()
        let path = f.configuration.rootKeyPath
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: KeyBrokerError.rootKeyPermissions(path: path, mode: 0o644)) { try RootKey.load(from: path) }
        #expect("\(KeyBrokerError.rootKeyPermissions(path: path, mode: 0o644))".contains("must be 0600"))
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(throws: KeyBrokerError.rootKeyExists(path: path)) { try RootKey.create(at: path) }
        #expect(throws: KeyBrokerError.couldNotDecryptSecret("identity")) {
            try KeyBrokerStore(path: f.configuration.statePath, rootKey: .random(count: 32))
        }
    }

    @Test("the configuration refuses roles without policy, unknown neighbours and a bad schedule")
    func configuration() throws {
        let f = try BrokerFixture()
        var missingPolicy = f.configuration
        missingPolicy.policy.roles["shard-1"] = nil
        #expect(throws: KeyBrokerError.configuration("policy: no entry for role shard-1")) {
            try missingPolicy.validate()
        }
        var badNeighbour = f.configuration
        badNeighbour.roles[0].neighbours = ["gateway"]
        #expect(throws: KeyBrokerError.configuration("roles[0].neighbours: gateway is not a role")) {
            try badNeighbour.validate()
        }
        var badName = f.configuration
        let nameProblem = KeyBrokerError.configuration(
            "roles[3].name: must be 1-128 bytes without spaces or control characters")
        badName.roles[3].name = "post\nprocessor"
        #expect(throws: nameProblem) { try badName.validate() }
        badName.roles[3].name = String(repeating: "p", count: 129)
        #expect(throws: nameProblem) { try badName.validate() }
        var badGrace = f.configuration
        badGrace.graceSeconds = 601
        #expect(throws: KeyBrokerError.self) { try badGrace.validate() }
        var noReference = f.configuration
        noReference.referenceMeasurements = [:]
        #expect(throws: KeyBrokerError.self) { try noReference.resolvedPolicy() }
        var computed = noReference
        computed.resolveReferenceMeasurements { role in [UInt8](repeating: UInt8(role.count), count: 48) }
        #expect(computed.referenceMeasurements == ["preprocessor": String(repeating: "0c", count: 48)])
        #expect(
            try computed.resolvedPolicy().roles["preprocessor"]?.evidence["simulated"]?.measurements == [
                String(repeating: "0c", count: 48)
            ])
        let decoded = try JSONDecoder().decode(KeyBrokerConfiguration.self, from: JSONEncoder().encode(f.configuration))
        #expect(decoded == f.configuration)
    }

    @Test("nvidiaGPU.referenceManifests are read when the policy is resolved; a RIM that does not verify stops it")
    func rimManifests() throws {
        let f = try BrokerFixture()
        var configuration = f.configuration
        func withManifests(_ paths: [String]) -> KeyBrokerConfiguration {
            var changed = configuration
            changed.policy.roles["shard-1"] = RolePolicy(evidence: [
                "tdx+nvidia-gpu": EvidencePolicy(
                    measurements: [String(repeating: "00", count: 48)],
                    nvidiaGPU: NVIDIAGPUPolicy(referenceManifests: paths))
            ])
            return changed
        }
        // The vendored RIM's signer expired on 2025-06-26, so resolving it now refuses, naming the field.
        configuration = withManifests([TestVectors.url("nvidia/nvtrust/Driver_RIM_test_no_gpu.swidtag").path])
        let expired = #expect(throws: KeyBrokerError.self) { try configuration.resolvedPolicy() }
        #expect(
            expired.map { "\($0)".contains("shard-1.evidence.tdx+nvidia-gpu.nvidiaGPU.referenceManifests") } == true,
            "\(String(describing: expired))")
        #expect(expired.map { "\($0)".contains("expired") } == true, "\(String(describing: expired))")
        configuration = withManifests(["/nonexistent/driver.swidtag"])
        #expect(throws: KeyBrokerError.self) { try configuration.resolvedPolicy() }
        // Without manifests nothing is read.
        configuration = withManifests([])
        #expect(
            try configuration.resolvedPolicy().roles["shard-1"]?.evidence["tdx+nvidia-gpu"]?.nvidiaGPU?
                .referenceMeasurements == nil)
    }
}
