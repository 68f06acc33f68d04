import Attestation
import Sodium
import Testing
import Trust

@Suite("Log entries and signed tree heads")
struct LogEntryTests {
    static let entries: [LogEntry] = [
        .policyChange(.init(time: 1, pipelineID: "p", policy: samplePolicy.canonicalBytes, previousPolicyDigest: [])),
        .keyRelease(
            .init(
                time: 2, role: "shard-0", epoch: 3, evidenceKind: "simulated", measurement: "ab",
                ephemeralKeyFingerprint: [UInt8](repeating: 7, count: 32), includesWeightKey: true, policyIndex: 1,
                modelDigest: [UInt8](repeating: 5, count: 32),
                signingKeys: [3: [UInt8](repeating: 3, count: 32), 2: [UInt8](repeating: 2, count: 32)])),
        .refusal(
            .init(
                time: 3, role: "shard-1", check: "nonce-reused", evidenceKind: "simulated", ephemeralKeyFingerprint: [],
                reason: "nonce was already used")),
        .epochRotation(
            .init(time: 4, epoch: 9, startsAt: 10, endsAt: 20, boxKeyFingerprints: ["a": [1], "b": [2, 3]])),
        .weightKeyRegistration(.init(time: 5, role: "shard-0", keyID: [9, 9])),
    ]

    static let samplePolicy = ReleasePolicy(roles: [
        "preprocessor": RolePolicy(evidence: ["simulated": EvidencePolicy(measurements: ["AA11", "0b"])]),
        "shard-0": RolePolicy(evidence: [
            "sev-snp": EvidencePolicy(measurements: ["cc"], allowDebug: true, minimumTCB: 7),
            "simulated": EvidencePolicy(measurements: ["cc"], allowDebug: true),
        ]),
    ])

    @Test("every entry type round-trips through its canonical bytes")
    func roundTrip() throws {
        for entry in Self.entries {
            #expect(try LogEntry(encoded: entry.encoded) == entry)
            #expect(entry.leafHash == MerkleHash.leaf(entry.encoded))
        }
        #expect(
            Self.entries.map(\.typeName) == [
                "policy-change", "key-release", "refusal", "epoch-rotation", "weight-key-registration",
            ])
    }

    @Test("the encoding is exact: known bytes for a weight-key entry")
    func knownBytes() {
        let entry = LogEntry.weightKeyRegistration(.init(time: 0x0102, role: "s", keyID: [0xAA]))
        #expect(entry.encoded == [2, 5, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 1, 0x73, 0, 0, 0, 1, 0xAA])
    }

    @Test("a key release of format 1, logged before receipts, still decodes, with no policy, model or keys")
    func firstFormatKeyRelease() throws {
        var w: [UInt8] = [1, 2]
        func u32(_ v: Int) {
            w += [UInt8(v >> 24 & 0xff), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
        }
        func u64(_ v: Int) {
            u32(0)
            u32(v)
        }
        func string(_ text: String) {
            u32(text.utf8.count)
            w += Array(text.utf8)
        }
        u64(2)
        string("shard-0")
        u64(3)
        string("simulated")
        string("ab")
        u32(1)
        w += [7]
        w += [1]
        guard case .keyRelease(let release) = try LogEntry(encoded: w) else {
            Issue.record("not a key release")
            return
        }
        #expect(release.role == "shard-0" && release.epoch == 3 && release.includesWeightKey)
        #expect(release.policyIndex == 0 && release.modelDigest.isEmpty && release.signingKeys.isEmpty)
        // Re-encoded, it is a format-2 entry: the store keeps the logged bytes, never re-encodes them.
        #expect(release.policyIndex == 0 && LogEntry.keyRelease(release).encoded.first == 2)
    }

    @Test("truncated, extended, unknown-version and unknown-type entries are refused")
    func malformed() {
        let bytes = Self.entries[1].encoded
        #expect(throws: CanonicalDecodingError.self) { try LogEntry(encoded: Array(bytes.dropLast())) }
        #expect(throws: CanonicalDecodingError.trailingBytes(count: 1)) { try LogEntry(encoded: bytes + [0]) }
        #expect(throws: CanonicalDecodingError.unsupportedVersion(3)) { try LogEntry(encoded: [3] + bytes.dropFirst()) }
        // A signing-key count larger than the bytes left is refused before anything is read for it.
        var lying = bytes
        let countOffset = bytes.count - 2 * (8 + 4 + 32) - 4
        lying.replaceSubrange(countOffset..<countOffset + 4, with: [0xff, 0xff, 0xff, 0xff])
        #expect(throws: CanonicalDecodingError.self) { try LogEntry(encoded: lying) }
        #expect(throws: CanonicalDecodingError.invalidValue(what: "type")) { try LogEntry(encoded: [1, 77]) }
    }

    @Test("the canonical policy is order-independent and round-trips")
    func policyCanonical() throws {
        var reordered = Self.samplePolicy
        reordered.roles["preprocessor"]!.evidence["simulated"]!.measurements = ["0b", "aa11"]
        #expect(reordered.canonicalBytes == Self.samplePolicy.canonicalBytes)
        #expect(reordered.digest == SHA256.hash(Self.samplePolicy.canonicalBytes))
        let decoded = try ReleasePolicy(canonicalBytes: Self.samplePolicy.canonicalBytes)
        #expect(decoded.roles["shard-0"]?.evidence["sev-snp"]?.minimumTCB == 7)
        #expect(decoded.roles["preprocessor"]?.evidence["simulated"]?.minimumTCB == nil)
        #expect(decoded.canonicalBytes == Self.samplePolicy.canonicalBytes)
        var changed = Self.samplePolicy
        changed.roles["shard-0"]!.evidence["sev-snp"]!.allowDebug = false
        #expect(changed.digest != Self.samplePolicy.digest)
        var vmpl = Self.samplePolicy
        vmpl.roles["shard-0"]!.evidence["sev-snp"]!.vmpl = 1
        #expect(vmpl.digest != Self.samplePolicy.digest)
        #expect(try ReleasePolicy(canonicalBytes: vmpl.canonicalBytes).roles["shard-0"]?.evidence["sev-snp"]?.vmpl == 1)
        var hostData = Self.samplePolicy
        hostData.roles["shard-0"]!.evidence["sev-snp"]!.sevSNP = SEVSNPPolicy(
            hostData: String(repeating: "ab", count: 32))
        #expect(hostData.digest != Self.samplePolicy.digest)
        #expect(throws: CanonicalDecodingError.self) {
            try ReleasePolicy(canonicalBytes: Array("sealpipe-policy-v1".utf8))
        }
    }

    @Test("a tree head verifies under its key only, and any changed field breaks it")
    func treeHead() throws {
        let identity = SigningKeyPair.generate()
        let head = SignedTreeHead.sign(
            treeSize: 5, rootHash: [UInt8](repeating: 1, count: 32), timestamp: 99, with: identity)
        #expect(head.hasValidSignature(by: identity.publicKey))
        #expect(!head.hasValidSignature(by: SigningKeyPair.generate().publicKey))
        #expect(head.signedBytes.prefix(21) == Array("sealpipe-tree-head-v1".utf8)[...])
        #expect(head.signedBytes.count == 21 + 8 + 8 + 32)
        var bigger = head
        bigger.treeSize = 6
        #expect(!bigger.hasValidSignature(by: identity.publicKey))
        var later = head
        later.timestamp = 100
        #expect(!later.hasValidSignature(by: identity.publicKey))
        var otherRoot = head
        otherRoot.rootHash[31] ^= 1
        #expect(!otherRoot.hasValidSignature(by: identity.publicKey))
    }
}
