/// The plaintext a client opens with its reply key: which job, and its output.
///
/// Layout: version u8 · job id 16 · body (u32 length + bytes). What the body means is the
/// workload's (for the embedding pipeline, `EmbeddingCodec` in `Inference`).
public struct JobResult: Sendable {
    public static let version: UInt8 = 1
    public var jobID: JobID
    public var body: [UInt8]

    public init(jobID: JobID, body: [UInt8]) {
        self.jobID = jobID
        self.body = body
    }

    /// Bytes of the encoding of a result whose body has `bodyCount` bytes.
    public static func encodedCount(bodyCount: Int) -> Int { 1 + JobID.byteCount + 4 + bodyCount }

    /// Encodes a result into `writer` (a stage encodes straight into the secret memory it seals from).
    public static func encode(jobID: JobID, body: some ByteView, into writer: inout some ByteWriting) {
        writer.write(version)
        writer.write(bytes: jobID.bytes)
        writer.writeLengthPrefixed(view: body)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedCount(bodyCount: body.count))
        Self.encode(jobID: jobID, body: body, into: &writer)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "job result")
        let version = try reader.readUInt8()
        guard version == Self.version else { throw .unsupportedVersion(what: "job result", version: version) }
        jobID = JobID(bytes: try reader.readBytes(JobID.byteCount))!
        body = try reader.readLengthPrefixed()
        try reader.expectEnd()
    }
}
