import Attestation
import Foundation
import Sodium
import Testing
import Trust
import Wire

/// A pipeline's log and one job's receipts, made the way the broker and the stages make them:
/// a policy with the path and a shard digest, one key release per role naming its signing key,
/// and a receipt per stage whose digests chain from the request to the result.
private struct ReceiptFixture {
    static let path = ["pre", "enc", "post"]
    let pipelineID: String
    let broker = SigningKeyPair.generate()
    let roleKeys = Dictionary(uniqueKeysWithValues: path.map { ($0, SigningKeyPair.generate()) })
    let shardDigest = [UInt8](repeating: 0x5A, count: 32)
    let replyKey = BoxKeyPair.generate().publicKey.bytes
    let jobID = JobID.random()
    var export: LedgerExport
    var releaseIndex: [String: UInt64] = [:]

    init(pipelineID: String = "p1", listShard: Bool = true) {
        self.pipelineID = pipelineID
        var roles: [String: RolePolicy] = [:]
        for role in Self.path {
            roles[role] = RolePolicy(
                evidence: ["simulated": EvidencePolicy(measurements: ["aa"])],
                shardDigest: role == "enc" && listShard ? Hex.encode(shardDigest) : nil)
        }
        let policy = ReleasePolicy(roles: roles, path: Self.path)
        var entries: [LogEntry] = [
            .policyChange(
                .init(time: 1, pipelineID: pipelineID, policy: policy.canonicalBytes, previousPolicyDigest: []))
        ]
        for role in Self.path {
            releaseIndex[role] = UInt64(entries.count)
            entries.append(
                .keyRelease(
                    .init(
                        time: 2, role: role, epoch: 4, evidenceKind: "simulated", measurement: "aa",
                        ephemeralKeyFingerprint: [UInt8](repeating: 1, count: 32), includesWeightKey: role == "enc",
                        policyIndex: 0, modelDigest: role == "enc" ? shardDigest : [],
                        signingKeys: [4: roleKeys[role]!.publicKey.bytes])))
        }
        var tree = MerkleTree()
        for entry in entries { tree.append(leafData: entry.encoded) }
        export = LedgerExport(
            identityKey: broker.publicKey, entries: entries.map(\.encoded),
            treeHeads: [
                SignedTreeHead.sign(treeSize: UInt64(tree.size), rootHash: tree.root, timestamp: 3, with: broker)
            ])
    }

    var request: [UInt8] { Array("a sentence".utf8) }
    var result: [UInt8] { [1, 2, 3, 4] }

    /// Each stage's receipt: the plaintexts pass request → tokens → hidden → result.
    func receipts() -> [StageReceipt] {
        let payloads: [[UInt8]] = [request, [7, 7], [8, 8, 8], result]
        return Self.path.enumerated().map { hop, role in
            signed(
                StageReceipt(
                    role: role, replica: 0, epoch: 4, releaseIndex: releaseIndex[role]!,
                    shardDigest: role == "enc" ? shardDigest : [],
                    inputDigest: ReceiptDigest.of(payloads[hop], replyKey: replyKey),
                    outputDigest: ReceiptDigest.of(payloads[hop + 1], replyKey: replyKey), time: 10))
        }
    }

    func signed(_ receipt: StageReceipt, by key: SigningKeyPair? = nil) -> StageReceipt {
        var copy = receipt
        copy.signature = (key ?? roleKeys[receipt.role]!).signature(
            for: receipt.signedBytes(pipelineID: pipelineID, jobID: jobID))
        return copy
    }

    func file(_ receipts: [StageReceipt]? = nil) -> ReceiptFile {
        ReceiptFile(
            pipelineID: pipelineID, jobID: jobID, epoch: 4,
            requestDigest: ReceiptDigest.of(request, replyKey: replyKey),
            resultDigest: ReceiptDigest.of(result, replyKey: replyKey), receipts: receipts ?? self.receipts())
    }

    func verify(_ file: ReceiptFile, against export: LedgerExport? = nil) -> ReceiptVerificationReport {
        ReceiptVerifier.verify(file, log: ExportedLog(export ?? self.export, pinnedKey: broker.publicKey))
    }
}

@Suite("Receipt verification against the key broker's log")
struct ReceiptVerifierTests {
    @Test("a job's receipts from every stage verify, with every check passed and named")
    func honestReceiptsVerify() throws {
        let fixture = ReceiptFixture()
        let report = fixture.verify(fixture.file())
        #expect(report.passed, "\(report.results.filter { !$0.passed })")
        #expect(report.results.map(\.check) == ReceiptVerifier.Check.allCases)
        // The file survives its JSON form.
        let reread = try ReceiptFile(json: try fixture.file().json())
        #expect(
            ReceiptVerifier.verify(reread, log: ExportedLog(fixture.export, pinnedKey: fixture.broker.publicKey)).passed
        )
    }

    /// Changing any one field of any receipt, even re-signed by someone else, fails a named check.
    @Test("altering any field of any receipt fails and names the check")
    func everyFieldIsBound() {
        let fixture = ReceiptFixture()
        let honest = fixture.receipts()
        let alterations: [(String, (inout StageReceipt) -> Void, ReceiptVerifier.Check)] = [
            ("role", { $0.role = "enc2" }, .path),
            ("replica", { $0.replica += 1 }, .signature),
            ("epoch", { $0.epoch += 1 }, .jobEpoch),
            ("release index", { $0.releaseIndex = 0 }, .releaseEntry),
            ("shard digest", { $0.shardDigest = [UInt8](repeating: 1, count: 32) }, .shardDigest),
            ("input digest", { $0.inputDigest[0] ^= 1 }, .signature),
            ("output digest", { $0.outputDigest[31] ^= 1 }, .signature),
            ("time", { $0.time += 1 }, .signature),
            ("signature", { $0.signature[10] ^= 1 }, .signature),
        ]
        for hop in honest.indices {
            for (name, alter, check) in alterations {
                var receipts = honest
                alter(&receipts[hop])
                let report = fixture.verify(fixture.file(receipts))
                #expect(!report.passed, "altered \(name) at hop \(hop) passed")
                #expect(report.failedChecks.contains(check), "altered \(name) at hop \(hop): \(report.failedChecks)")
            }
        }
    }

    @Test("a receipt re-signed by another key, or for another job, fails `signature`")
    func signatureBindsKeyAndJob() {
        let fixture = ReceiptFixture()
        var receipts = fixture.receipts()
        receipts[1] = fixture.signed(receipts[1], by: SigningKeyPair.generate())
        #expect(fixture.verify(fixture.file(receipts)).failedChecks == [.signature])
        var otherJob = fixture.file()
        otherJob.jobID = Hex.encode(JobID.random().bytes)
        #expect(fixture.verify(otherJob).failedChecks == [.signature])
    }

    @Test("a dropped or reordered hop fails `path` and `digest-chain`")
    func droppedAndReorderedHops() {
        let fixture = ReceiptFixture()
        let honest = fixture.receipts()
        let dropped = fixture.verify(fixture.file([honest[0], honest[2]]))
        #expect(dropped.failedChecks.contains(.path) && dropped.failedChecks.contains(.digestChain))
        let reordered = fixture.verify(fixture.file([honest[1], honest[0], honest[2]]))
        #expect(reordered.failedChecks.contains(.path) && reordered.failedChecks.contains(.digestChain))
        let lastDropped = fixture.verify(fixture.file(Array(honest.dropLast())))
        #expect(lastDropped.failedChecks.contains(.resultDigest))
        #expect(fixture.verify(fixture.file([])).failedChecks.contains(.format))
    }

    @Test("receipts checked against another pipeline's ledger fail, naming why")
    func anotherPipelinesLedger() {
        let fixture = ReceiptFixture()
        let other = ReceiptFixture(pipelineID: "p2")
        let report = ReceiptVerifier.verify(
            fixture.file(), log: ExportedLog(other.export, pinnedKey: other.broker.publicKey))
        #expect(!report.passed)
        #expect(report.failedChecks.contains(.pipeline))
        #expect(report.failedChecks.contains(.signature))
        // Pinned to this pipeline's broker, the other ledger is not even sound.
        let pinned = ReceiptVerifier.verify(
            fixture.file(), log: ExportedLog(other.export, pinnedKey: fixture.broker.publicKey))
        #expect(pinned.failedChecks.contains(.ledger))
    }

    @Test("a receipt naming a shard the policy does not list fails `shard-digest`, even signed and logged")
    func unlistedShard() {
        let fixture = ReceiptFixture(listShard: false)
        let report = fixture.verify(fixture.file())
        #expect(report.failedChecks == [.shardDigest])
    }

    @Test("a tampered ledger is unsound: every receipt citing it fails `ledger`")
    func tamperedLedger() {
        let fixture = ReceiptFixture()
        var export = fixture.export
        export.entries[2][5] ^= 1
        #expect(fixture.verify(fixture.file(), against: export).failedChecks.contains(.ledger))
    }

    @Test("the request and result digests tie the chain's ends to this job")
    func endsAreTied() {
        let fixture = ReceiptFixture()
        var file = fixture.file()
        file.requestDigest = Hex.encode(ReceiptDigest.of(Array("another".utf8), replyKey: fixture.replyKey))
        file.resultDigest = Hex.encode([UInt8](repeating: 0, count: 32))
        #expect(fixture.verify(file).failedChecks == [.requestDigest, .resultDigest])
    }

    @Test("an entry from a live broker counts only with its proof under a head the pinned key signed")
    func provenEntries() throws {
        let fixture = ReceiptFixture()
        var tree = MerkleTree()
        for entry in fixture.export.entries { tree.append(leafData: entry) }
        let head = fixture.export.treeHeads[0]
        let proof = try tree.inclusionProof(index: 2, size: tree.size)
        let entry = fixture.export.entries[2]
        #expect(
            try ProvenEntry.check(entry: entry, index: 2, head: head, proof: proof, brokerKey: fixture.broker.publicKey)
                == entry)
        #expect(throws: ProvenLogError.self) {
            try ProvenEntry.check(
                entry: entry, index: 2, head: head, proof: proof, brokerKey: SigningKeyPair.generate().publicKey)
        }
        #expect(throws: ProvenLogError.self) {
            try ProvenEntry.check(
                entry: entry, index: 1, head: head, proof: proof, brokerKey: fixture.broker.publicKey)
        }
        #expect(throws: ProvenLogError.self) {
            try ProvenEntry.check(
                entry: entry + [0], index: 2, head: head, proof: proof, brokerKey: fixture.broker.publicKey)
        }
    }

    @Test("malformed receipt files are refused by name")
    func malformedFiles() {
        #expect(throws: ReceiptFileError.self) { try ReceiptFile(json: Data("{}".utf8)) }
        #expect(throws: ReceiptFileError.self) { try ReceiptFile(json: Data(count: ReceiptFile.maximumFileBytes + 1)) }
        let fixture = ReceiptFixture()
        var file = fixture.file()
        file.receipts[0] = "zz"
        #expect(fixture.verify(file).failedChecks.contains(.format))
        file = fixture.file()
        file.receipts[1].removeLast(2)
        #expect(fixture.verify(file).failedChecks.contains(.format))
    }
}
