/// The plaintext a client opens with its reply key: which job, and its output.
///
/// Layout: version u8 (1) · job id 16 · body (u32 length + bytes); for a job that asked for
/// receipts, version u8 (2) · job id 16 · body · receipts (u32 length + a `ReceiptChain`, front
/// stage first). What the body means is the workload's (for the embedding pipeline,
/// `EmbeddingCodec` in `Inference`).
public struct JobResult: Sendable {
    public static let version: UInt8 = 1
    public static let versionWithReceipts: UInt8 = 2
    public var jobID: JobID
    public var body: [UInt8]
    /// The encoded receipt chain, or `nil` for a job that asked for none.
    public var receipts: [UInt8]?

    public init(jobID: JobID, body: [UInt8], receipts: [UInt8]? = nil) {
        self.jobID = jobID
        self.body = body
        self.receipts = receipts
    }

    /// Bytes of the encoding of a result whose body has `bodyCount` bytes, with `receiptCount`
    /// bytes of receipts or none.
    public static func encodedCount(bodyCount: Int, receiptCount: Int? = nil) -> Int {
        1 + JobID.byteCount + 4 + bodyCount + (receiptCount.map { 4 + $0 } ?? 0)
    }

    /// Encodes a result into `writer` (a stage encodes straight into the secret memory it seals from).
    public static func encode(
        jobID: JobID, body: some ByteView, receipts: [UInt8]? = nil, into writer: inout some ByteWriting
    ) {
        writer.write(receipts == nil ? version : versionWithReceipts)
        writer.write(bytes: jobID.bytes)
        writer.writeLengthPrefixed(view: body)
        if let receipts { writer.writeLengthPrefixed(receipts) }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedCount(bodyCount: body.count, receiptCount: receipts?.count))
        Self.encode(jobID: jobID, body: body, receipts: receipts, into: &writer)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "job result")
        let version = try reader.readUInt8()
        guard version == Self.version || version == Self.versionWithReceipts else {
            throw .unsupportedVersion(what: "job result", version: version)
        }
        jobID = JobID(bytes: try reader.readBytes(JobID.byteCount))!
        body = try reader.readLengthPrefixed()
        receipts = version == Self.versionWithReceipts ? try reader.readLengthPrefixed() : nil
        try reader.expectEnd()
    }
}
