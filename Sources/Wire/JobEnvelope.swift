/// The plaintext inside a client's sealed request: the job id (binding the ciphertext to its
/// header), the client's own expiry for it, the client's reply key (carried, sealed, to the last
/// stage) and the stage's input.
///
/// Layout (integers little-endian): version u8 (3) · job id 16 · expires at u64 (Unix
/// milliseconds, the client's clock) · reply public key 32 · options u8 (`JobOptions`) · body
/// (u32 length + bytes). Version 2 — the same without the options byte — is still accepted, as
/// a request with no options.
///
/// Why the expiry is inside the box: the request's header crosses the gateway in clear and
/// unsigned (clients are anonymous), so its deadline is the gateway's word, not the client's.
/// The sealed expiry is the client's, and bounds for how long a captured request can be
/// replayed: the front stage refuses it once expired, refuses expiries further ahead than the
/// pipeline's longest deadline, and remembers every request it accepted until its expiry.
/// Version 1 (no expiry) is refused.
public struct JobEnvelope: Sendable {
    public static let version: UInt8 = 3
    /// The version before the options byte, still accepted from clients.
    public static let versionWithoutOptions: UInt8 = 2
    public static let replyKeyByteCount = 32
    public static let overhead = 1 + JobID.byteCount + 8 + replyKeyByteCount + 1 + 4

    public var jobID: JobID
    /// When the client stops caring about the job (Unix milliseconds).
    public var expiresAt: UInt64
    public var replyKey: [UInt8]
    public var options: JobOptions
    public var body: [UInt8]

    public init(jobID: JobID, expiresAt: UInt64, replyKey: [UInt8], options: JobOptions = [], body: [UInt8]) {
        precondition(replyKey.count == Self.replyKeyByteCount, "reply keys are 32-byte X25519 public keys")
        self.jobID = jobID
        self.expiresAt = expiresAt
        self.replyKey = replyKey
        self.options = options
        self.body = body
    }

    /// An envelope's fields with the body of any kind: an owned array, secret memory, or — when
    /// decoded — the range where the body lies in the decoded buffer, so that plaintext opened
    /// into secret memory is never copied out to be decoded.
    public struct Parts<Body> {
        public var jobID: JobID
        public var expiresAt: UInt64
        public var replyKey: [UInt8]
        public var options: JobOptions
        public var body: Body
        /// The receipts of the stages the job has passed (`ReceiptChain`, encoded): carried in
        /// bundles between stages, never in a client's request; empty when none were asked for.
        public var receipts: [UInt8]

        public init(
            jobID: JobID, expiresAt: UInt64, replyKey: [UInt8], options: JobOptions = [], body: Body,
            receipts: [UInt8] = []
        ) {
            precondition(replyKey.count == JobEnvelope.replyKeyByteCount, "reply keys are 32-byte X25519 public keys")
            self.jobID = jobID
            self.expiresAt = expiresAt
            self.replyKey = replyKey
            self.options = options
            self.body = body
            self.receipts = receipts
        }
    }

    /// Bytes of the encoding of an envelope whose body has `bodyCount` bytes.
    public static func encodedCount(bodyCount: Int) -> Int { overhead + bodyCount }

    /// Encodes `parts` into `writer`.
    public static func encode(_ parts: Parts<some ByteView>, into writer: inout some ByteWriting) {
        writer.write(version)
        writer.write(bytes: parts.jobID.bytes)
        writer.write(parts.expiresAt)
        writer.write(bytes: parts.replyKey)
        writer.write(parts.options.rawValue)
        writer.writeLengthPrefixed(view: parts.body)
    }

    /// Decodes an envelope, leaving the body where it lies in `bytes`.
    public static func parts<Bytes: RandomAccessCollection>(
        decoding bytes: Bytes
    ) throws(WireError) -> Parts<Range<Int>>
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var reader = ByteReader(bytes, context: "job envelope")
        let version = try reader.readUInt8()
        guard version == Self.version || version == Self.versionWithoutOptions else {
            throw .unsupportedVersion(what: "job envelope", version: version)
        }
        let jobID = JobID(bytes: try reader.readBytes(JobID.byteCount))!
        let expiresAt = try reader.readUInt64()
        let replyKey = try reader.readBytes(Self.replyKeyByteCount)
        let options = version == Self.version ? try JobOptions(validating: reader.readUInt8()) : []
        let body = try reader.readLengthPrefixedRange()
        try reader.expectEnd()
        return Parts(jobID: jobID, expiresAt: expiresAt, replyKey: replyKey, options: options, body: body)
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedCount(bodyCount: body.count))
        Self.encode(
            Parts(jobID: jobID, expiresAt: expiresAt, replyKey: replyKey, options: options, body: body), into: &writer)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        let parts = try Self.parts(decoding: bytes)
        self.init(
            jobID: parts.jobID, expiresAt: parts.expiresAt, replyKey: parts.replyKey, options: parts.options,
            body: Array(bytes[parts.body]))
    }
}

extension JobEnvelope.Parts: Sendable where Body: Sendable {}

/// What a client asks of the pipeline for one job, inside its sealed request (so the gateway
/// never learns it) and carried with the job from stage to stage.
public struct JobOptions: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Every stage adds a signed `StageReceipt`; the client gets the chain in its result.
    public static let receipts = JobOptions(rawValue: 1)

    static let known: JobOptions = [.receipts]

    /// Refuses bits no version of the protocol defines: a client asking for something the
    /// pipeline cannot do should hear so, not be silently ignored.
    init(validating raw: UInt8) throws(WireError) {
        let options = JobOptions(rawValue: raw)
        guard Self.known.isSuperset(of: options) else {
            throw .invalidField(what: "job envelope", reason: "unknown option bits 0x\(String(raw, radix: 16))")
        }
        self = options
    }
}
