/// The plaintext inside every sealed hop: the job id (binding the ciphertext to its header),
/// the client's reply key (carried, sealed, to the last stage) and the stage's input.
///
/// Layout: version u8 · job id 16 · reply public key 32 · body (u32 length + bytes). The
/// client's request is the first envelope; each stage replaces the body with its output.
public struct JobEnvelope: Sendable {
    public static let version: UInt8 = 1
    public static let replyKeyByteCount = 32
    public static let overhead = 1 + JobID.byteCount + replyKeyByteCount + 4

    public var jobID: JobID
    public var replyKey: [UInt8]
    public var body: [UInt8]

    public init(jobID: JobID, replyKey: [UInt8], body: [UInt8]) {
        precondition(replyKey.count == Self.replyKeyByteCount, "reply keys are 32-byte X25519 public keys")
        self.jobID = jobID
        self.replyKey = replyKey
        self.body = body
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.overhead + body.count)
        writer.write(Self.version)
        writer.write(bytes: jobID.bytes)
        writer.write(bytes: replyKey)
        writer.writeLengthPrefixed(body)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "job envelope")
        let version = try reader.readUInt8()
        guard version == Self.version else { throw .unsupportedVersion(what: "job envelope", version: version) }
        jobID = JobID(bytes: try reader.readBytes(JobID.byteCount))!
        replyKey = try reader.readBytes(Self.replyKeyByteCount)
        body = try reader.readLengthPrefixed()
        try reader.expectEnd()
    }
}
