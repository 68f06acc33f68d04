import Testing
import Wire

@Suite("Receipts, request options and results with receipts on the wire")
struct ReceiptWireTests {
    static let receipt = StageReceipt(
        role: "shard-0", replica: 2, epoch: 7, releaseIndex: 99, shardDigest: [UInt8](repeating: 5, count: 32),
        inputDigest: [UInt8](repeating: 1, count: 32), outputDigest: [UInt8](repeating: 2, count: 32), time: 1234,
        signature: [UInt8](repeating: 9, count: 64))

    @Test func receiptsRoundTripWithTheirDocumentedLayout() throws {
        let bytes = Self.receipt.encoded()
        #expect(bytes.count == StageReceipt.encodedCount(roleBytes: 7, shardDigestCount: 32))
        #expect(Array(bytes.prefix(12)) == [1, 7, 0] + Array("shard-0".utf8) + [2, 0])
        #expect(try StageReceipt(decoding: bytes) == Self.receipt)
        var plain = Self.receipt
        plain.shardDigest = []
        #expect(try StageReceipt(decoding: plain.encoded()) == plain)
        // The signed bytes bind the pipeline and job, which the receipt does not carry.
        let job = JobID.random()
        let signed = Self.receipt.signedBytes(pipelineID: "minilm", jobID: job)
        #expect(signed.starts(with: Array("sealpipe/receipt/v1".utf8) + [6, 0] + Array("minilm".utf8) + job.bytes))
        #expect(Array(signed.suffix(bytes.count - 64)) == Array(bytes.dropLast(64)))
        #expect(Self.receipt.signedBytes(pipelineID: "other", jobID: job) != signed)
    }

    @Test func malformedReceiptsAndChainsAreRefusedByName() throws {
        let bytes = Self.receipt.encoded()
        #expect(throws: WireError.self) { try StageReceipt(decoding: Array(bytes.dropLast())) }
        #expect(throws: WireError.trailingBytes(what: "receipt", count: 1)) { try StageReceipt(decoding: bytes + [0]) }
        #expect(throws: WireError.unsupportedVersion(what: "receipt", version: 2)) {
            try StageReceipt(decoding: [2] + bytes.dropFirst())
        }
        var shard = bytes
        shard[1 + 2 + 7 + 2 + 4 + 8] = 16  // a shard digest of 16 bytes
        #expect(throws: WireError.self) { try StageReceipt(decoding: shard) }
        var role = bytes
        role[1] = 0xff
        role[2] = 0xff  // a role of 65535 bytes
        #expect(throws: WireError.self) { try StageReceipt(decoding: role) }

        let chain = ReceiptChain.encode([Self.receipt, Self.receipt])
        #expect(try ReceiptChain.decode(chain) == [Self.receipt, Self.receipt])
        #expect(try ReceiptChain.decode(ReceiptChain.encode([])).isEmpty)
        #expect(throws: WireError.self) { try ReceiptChain.decode([65]) }
        #expect(throws: WireError.self) { try ReceiptChain.decode([3] + Array(chain.dropFirst())) }
        #expect(try ReceiptChain.decode(try ReceiptChain.appending(Self.receipt, to: [])) == [Self.receipt])
        #expect(
            try ReceiptChain.appending(Self.receipt, to: chain)
                == ReceiptChain.encode(Array(repeating: Self.receipt, count: 3)))
        let full = ReceiptChain.encode(Array(repeating: Self.receipt, count: ReceiptChain.maximumCount))
        #expect(throws: WireError.self) { try ReceiptChain.appending(Self.receipt, to: full) }
    }

    @Test func requestsCarryOptionsAndVersion2IsStillAccepted() throws {
        let id = JobID.random()
        let key = [UInt8](repeating: 3, count: 32)
        let asking = JobEnvelope(jobID: id, expiresAt: 9, replyKey: key, options: .receipts, body: [1, 2])
        let bytes = asking.encoded()
        #expect(bytes[0] == 3 && bytes[1 + 16 + 8 + 32] == 1)
        #expect(try JobEnvelope(decoding: bytes).options == .receipts)
        // Version 2: the same without the options byte, read as no options.
        let old = [2] + Array(bytes[1..<57]) + Array(bytes[58...])
        let decoded = try JobEnvelope(decoding: old)
        #expect(decoded.options.isEmpty && decoded.body == [1, 2] && decoded.jobID == id)
        var unknown = bytes
        unknown[57] = 0x82
        #expect(throws: WireError.invalidField(what: "job envelope", reason: "unknown option bits 0x82")) {
            try JobEnvelope(decoding: unknown)
        }
    }

    @Test func resultsWithReceiptsAreVersion2AndWithoutThemUnchanged() throws {
        let id = JobID.random()
        let plain = JobResult(jobID: id, body: [4, 5])
        #expect(plain.encoded().first == 1)
        #expect(try JobResult(decoding: plain.encoded()).receipts == nil)
        let chain = ReceiptChain.encode([Self.receipt])
        let withReceipts = JobResult(jobID: id, body: [4, 5], receipts: chain)
        let bytes = withReceipts.encoded()
        #expect(bytes.first == 2 && bytes.count == JobResult.encodedCount(bodyCount: 2, receiptCount: chain.count))
        let decoded = try JobResult(decoding: bytes)
        #expect(decoded.body == [4, 5] && decoded.receipts == chain)
        #expect(throws: WireError.self) { try JobResult(decoding: Array(bytes.dropLast())) }
    }

    @Test func bundlesRefuseReceiptsForAJobThatAskedForNone() throws {
        let job = JobEnvelope.Parts(
            jobID: .random(), expiresAt: 1, replyKey: [UInt8](repeating: 1, count: 32), body: [UInt8]([1]),
            receipts: [0])
        #expect(
            throws: WireError.invalidField(what: "bundle envelope", reason: "receipts for a job that asked for none")
        ) {
            try BundleEnvelope(decoding: BundleEnvelope(jobs: [job]).encoded())
        }
    }
}
