import Attestation
import Foundation
import Sodium
import Testing
import Trust

@Suite("Pipeline manifest verification")
struct ManifestVerifierTests {
    struct Fixture {
        let broker = SigningKeyPair.generate()
        let policy: ReleasePolicy
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var manifest: PipelineManifest

        /// The epoch ends 20 minutes after `now`; grace is 5 minutes.
        static let epochLength: UInt64 = 1_200_000
        static let grace: UInt64 = 300_000

        init(
            policy: ReleasePolicy = ReleasePolicy(roles: [
                "preprocessor": RolePolicy(allowedKinds: ["sev-snp"], measurements: ["aa"]),
                "postprocessor": RolePolicy(allowedKinds: ["sev-snp"], measurements: ["bb"]),
            ])
        ) throws {
            self.policy = policy
            var tree = MerkleTree()
            tree.append(leafHash: LogEntry.weightKeyRegistration(.init(time: 1, role: "x", keyID: [1])).leafHash)
            let entry = LogEntry.policyChange(
                .init(time: 2, pipelineID: "demo", policy: policy.canonicalBytes, previousPolicyDigest: []))
            tree.append(leafHash: entry.leafHash)
            for i in 0..<5 { tree.append(leafData: [UInt8(i)]) }
            let millis = UInt64(now.timeIntervalSince1970 * 1000)
            let head = SignedTreeHead.sign(treeSize: 7, rootHash: tree.root, timestamp: millis, with: broker)
            manifest = PipelineManifest(
                pipelineID: "demo", frontRole: "preprocessor",
                frontKey: EpochPublicKey(epoch: 4, key: BoxKeyPair.generate().publicKey),
                previousFrontKey: EpochPublicKey(epoch: 3, key: BoxKeyPair.generate().publicKey),
                resultRole: "postprocessor", resultSigner: SigningKeyPair.generate().publicKey,
                policyDigest: policy.digest,
                policyEntry: entry.encoded,
                policyEntryIndex: 1, treeHead: head, policyInclusionProof: try tree.inclusionProof(index: 1, size: 7),
                issuedAt: millis, expiresAt: millis + 600_000, epochEndsAt: millis + Self.epochLength,
                graceMilliseconds: Self.grace, policySummary: RolePolicySummary.summaries(of: policy)
            ).signed(with: broker)
        }

        func verify(
            _ manifest: PipelineManifest? = nil, key: SigningPublicKey? = nil,
            measurements: [String: Set<String>]? = nil,
            digest: [UInt8]? = nil, allowSimulated: Bool = false, at: Date? = nil
        ) -> ManifestVerificationReport {
            ManifestVerifier.verify(
                manifest ?? self.manifest, pinnedBrokerKey: key ?? broker.publicKey, expectedMeasurements: measurements,
                expectedPolicyDigest: digest, allowSimulated: allowSimulated, now: at ?? now)
        }
    }

    /// Preprocessor on simulated evidence only; the shard on either kind; postprocessor on SEV-SNP.
    static let partlySimulated = ReleasePolicy(roles: [
        "preprocessor": RolePolicy(allowedKinds: ["simulated"], measurements: ["aa"]),
        "shard-0": RolePolicy(allowedKinds: ["simulated", "sev-snp"], measurements: ["cc"], allowDebug: true),
        "postprocessor": RolePolicy(allowedKinds: ["sev-snp"], measurements: ["bb"]),
    ])

    @Test("a good manifest passes every check and reports each one")
    func good() throws {
        let f = try Fixture()
        let report = f.verify(
            measurements: ["preprocessor": ["aa"], "postprocessor": ["bb", "cc"]], digest: f.policy.digest)
        #expect(report.isValid, "\(report.results)")
        #expect(report.results.map(\.check) == ManifestVerifier.Check.allCases)
        #expect(report.results.allSatisfy { $0.passed == true })
        #expect(report.policy == f.policy)
        let decoded = try JSONDecoder().decode(PipelineManifest.self, from: JSONEncoder().encode(f.manifest))
        #expect(decoded == f.manifest)
    }

    @Test("a bad manifest signature is refused")
    func badSignature() throws {
        let f = try Fixture()
        var forged = f.manifest
        forged.frontKey = EpochPublicKey(epoch: 4, key: BoxKeyPair.generate().publicKey)
        #expect(f.verify(forged).failedChecks == [.signature])
        #expect(f.verify(key: SigningKeyPair.generate().publicKey).failedChecks == [.signature, .treeHeadSignature])
        var otherSigner = f.manifest
        otherSigner.resultRole = "shard-0"
        #expect(f.verify(otherSigner).failedChecks == [.signature])
        var flipped = f.manifest
        flipped.signature[0] ^= 1
        #expect(!f.verify(flipped).isValid)
    }

    @Test("a wrong inclusion proof is refused even when the manifest is re-signed")
    func wrongInclusionProof() throws {
        let f = try Fixture()
        var wrongProof = f.manifest
        wrongProof.policyInclusionProof[0][0] ^= 1
        #expect(f.verify(wrongProof.signed(with: f.broker)).failedChecks == [.inclusionProof])
        var wrongIndex = f.manifest
        wrongIndex.policyEntryIndex = 2
        #expect(f.verify(wrongIndex.signed(with: f.broker)).failedChecks == [.inclusionProof])
        var shortProof = f.manifest
        shortProof.policyInclusionProof.removeLast()
        #expect(f.verify(shortProof.signed(with: f.broker)).failedChecks == [.inclusionProof])
    }

    @Test("a measurement the client does not expect is refused")
    func unexpectedMeasurement() throws {
        let f = try Fixture()
        let report = f.verify(measurements: ["preprocessor": ["aa"], "postprocessor": ["cc"]])
        #expect(report.failedChecks == [.measurements])
        let detail = report.results.first { $0.check == .measurements }?.detail ?? ""
        #expect(detail.contains("postprocessor: unexpected measurement bb"))
        #expect(f.verify(measurements: ["shard-9": ["aa"]]).failedChecks == [.measurements])
    }

    @Test("an expired manifest, a different policy digest and a swapped policy entry are refused")
    func expiryDigestEntry() throws {
        let f = try Fixture()
        #expect(f.verify(at: f.now.addingTimeInterval(601)).failedChecks == [.expiry])
        #expect(f.verify(at: f.now.addingTimeInterval(-3600)).failedChecks == [.expiry])
        #expect(f.verify(digest: [UInt8](repeating: 0, count: 32)).failedChecks == [.policyDigest])
        var otherPolicy = f.manifest
        otherPolicy.policyDigest = ReleasePolicy(roles: [:]).digest
        let report = f.verify(otherPolicy.signed(with: f.broker), measurements: ["preprocessor": ["aa"]])
        #expect(report.failedChecks == [.policyEntry, .policySummary, .measurements])
    }

    @Test("the policy summary names each role's kinds, debug setting and measurements, in one canonical order")
    func summary() throws {
        let summaries = RolePolicySummary.summaries(
            of: ReleasePolicy(roles: [
                "shard-0": RolePolicy(
                    allowedKinds: ["simulated", "sev-snp", "simulated"], measurements: ["CC", "aa", "cc"]),
                "preprocessor": RolePolicy(allowedKinds: [], measurements: [], allowDebug: true),
            ]))
        #expect(summaries.map(\.role) == ["preprocessor", "shard-0"])
        #expect(summaries[0].evidence.isEmpty)
        #expect(summaries[1].evidence.map(\.kind) == ["sev-snp", "simulated"])
        #expect(summaries[1].evidence.allSatisfy { $0.measurements == ["aa", "cc"] && !$0.allowDebug })
        #expect(summaries[1].acceptsSimulatedEvidence && !summaries[0].acceptsSimulatedEvidence)
        #expect(
            summaries[1].description
                == "shard-0: sev-snp (debug refused, 2 measurements); simulated (debug refused, 2 measurements)")
        let f = try Fixture(policy: Self.partlySimulated)
        #expect(f.manifest.policySummary == RolePolicySummary.summaries(of: Self.partlySimulated))
        #expect(f.manifest.rolesAcceptingSimulatedEvidence == ["preprocessor", "shard-0"])
    }

    @Test("a manifest whose policy summary was altered fails its signature, and its policy-summary check if re-signed")
    func alteredSummary() throws {
        let f = try Fixture(policy: Self.partlySimulated)
        #expect(f.verify(allowSimulated: true).isValid)
        // Hide the simulated kinds, as a man in the middle would to pass a client's check.
        var hidden = f.manifest
        for index in hidden.policySummary.indices {
            hidden.policySummary[index].evidence.removeAll { $0.kind == "simulated" }
        }
        #expect(hidden.rolesAcceptingSimulatedEvidence.isEmpty)
        #expect(f.verify(hidden).failedChecks == [.signature, .policySummary])
        var debug = f.manifest
        debug.policySummary[1].evidence[0].allowDebug.toggle()
        #expect(f.verify(debug, allowSimulated: true).failedChecks == [.signature, .policySummary])
        var measurement = f.manifest
        measurement.policySummary[0].evidence[0].measurements = ["dd"]
        #expect(f.verify(measurement, allowSimulated: true).failedChecks == [.signature, .policySummary])
        var dropped = f.manifest
        dropped.policySummary.removeLast()
        #expect(f.verify(dropped, allowSimulated: true).failedChecks == [.signature, .policySummary])
        // Signed by the broker but not the summary of the logged policy: refused all the same.
        let report = f.verify(hidden.signed(with: f.broker))
        #expect(report.failedChecks == [.policySummary])
        let detail = report.results.first { $0.check == .policySummary }?.detail ?? ""
        #expect(detail.contains("roles preprocessor, shard-0"))
    }

    @Test("a manifest that outlives its epoch plus grace is refused")
    func epochBound() throws {
        let f = try Fixture()
        let epochEnd = f.manifest.epochEndsAt
        var atBound = f.manifest
        atBound.expiresAt = epochEnd + Fixture.grace
        #expect(f.verify(atBound.signed(with: f.broker)).isValid)
        var beyond = f.manifest
        beyond.expiresAt = epochEnd + Fixture.grace + 1
        let report = f.verify(beyond.signed(with: f.broker))
        #expect(report.failedChecks == [.epochBound])
        #expect(report.results.first { $0.check == .epochBound }?.detail.contains("after epoch 4's end") == true)
        // Moving the bound instead breaks the signature.
        var moved = beyond
        moved.graceMilliseconds += 1
        #expect(f.verify(moved).failedChecks == [.signature])
        var overflowing = f.manifest
        overflowing.epochEndsAt = .max
        #expect(f.verify(overflowing.signed(with: f.broker)).failedChecks == [.epochBound])
    }

    @Test("a policy that accepts simulated evidence is refused unless the client allows it, naming the roles")
    func simulatedEvidence() throws {
        let f = try Fixture(policy: Self.partlySimulated)
        let refused = f.verify()
        #expect(refused.failedChecks == [.simulatedEvidence])
        let detail = try #require(refused.results.first { $0.check == .simulatedEvidence }?.detail)
        #expect(detail.contains("SIMULATED evidence for preprocessor, shard-0"))
        #expect(!detail.contains("postprocessor"))
        let allowed = f.verify(allowSimulated: true)
        #expect(allowed.isValid, "\(allowed.results)")
        let allowedDetail = allowed.results.first { $0.check == .simulatedEvidence }?.detail ?? ""
        #expect(allowedDetail.contains("allowed by the client"))
        let hardware = try Fixture()
        #expect(hardware.verify().results.first { $0.check == .simulatedEvidence }?.passed == true)
    }
}
