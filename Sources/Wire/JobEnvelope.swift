/// The plaintext inside a client's sealed request: the job id (binding the ciphertext to its
/// header), the client's own expiry for it, the client's reply key (carried, sealed, to the last
/// stage) and the stage's input.
///
/// Layout (integers little-endian): version u8 (2) · job id 16 · expires at u64 (Unix
/// milliseconds, the client's clock) · reply public key 32 · body (u32 length + bytes).
///
/// Why the expiry is inside the box: the request's header crosses the gateway in clear and
/// unsigned (clients are anonymous), so its deadline is the gateway's word, not the client's.
/// The sealed expiry is the client's, and bounds for how long a captured request can be
/// replayed: the front stage refuses it once expired, refuses expiries further ahead than the
/// pipeline's longest deadline, and remembers every request it accepted until its expiry.
/// Version 1 (no expiry) is refused.
public struct JobEnvelope: Sendable {
    public static let version: UInt8 = 2
    public static let replyKeyByteCount = 32
    public static let overhead = 1 + JobID.byteCount + 8 + replyKeyByteCount + 4

    public var jobID: JobID
    /// When the client stops caring about the job (Unix milliseconds).
    public var expiresAt: UInt64
    public var replyKey: [UInt8]
    public var body: [UInt8]

    public init(jobID: JobID, expiresAt: UInt64, replyKey: [UInt8], body: [UInt8]) {
        precondition(replyKey.count == Self.replyKeyByteCount, "reply keys are 32-byte X25519 public keys")
        self.jobID = jobID
        self.expiresAt = expiresAt
        self.replyKey = replyKey
        self.body = body
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.overhead + body.count)
        writer.write(Self.version)
        writer.write(bytes: jobID.bytes)
        writer.write(expiresAt)
        writer.write(bytes: replyKey)
        writer.writeLengthPrefixed(body)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "job envelope")
        let version = try reader.readUInt8()
        guard version == Self.version else { throw .unsupportedVersion(what: "job envelope", version: version) }
        jobID = JobID(bytes: try reader.readBytes(JobID.byteCount))!
        expiresAt = try reader.readUInt64()
        replyKey = try reader.readBytes(Self.replyKeyByteCount)
        body = try reader.readLengthPrefixed()
        try reader.expectEnd()
    }
}
