import Attestation
import Foundation
import Sodium
import Testing
import Trust

@Suite("Pipeline manifest verification")
struct ManifestVerifierTests {
    struct Fixture {
        let broker = SigningKeyPair.generate()
        let policy = ReleasePolicy(roles: [
            "preprocessor": RolePolicy(evidence: ["simulated": EvidencePolicy(measurements: ["aa"])]),
            "postprocessor": RolePolicy(evidence: ["simulated": EvidencePolicy(measurements: ["bb"])]),
        ])
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var manifest: PipelineManifest

        init() throws {
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
                issuedAt: millis, expiresAt: millis + 600_000
            ).signed(with: broker)
        }

        func verify(
            _ manifest: PipelineManifest? = nil, key: SigningPublicKey? = nil,
            measurements: [String: Set<String>]? = nil,
            digest: [UInt8]? = nil, at: Date? = nil
        ) -> ManifestVerificationReport {
            ManifestVerifier.verify(
                manifest ?? self.manifest, pinnedBrokerKey: key ?? broker.publicKey, expectedMeasurements: measurements,
                expectedPolicyDigest: digest, now: at ?? now)
        }
    }

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
        #expect(report.results.last?.detail.contains("postprocessor: unexpected measurement bb") == true)
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
        #expect(report.failedChecks == [.policyEntry, .measurements])
    }
}
