/// The fixed 36-byte header that starts every pipeline message (client, gateway and stages).
///
/// Layout (little-endian): version u8 · type u8 · code u16 · epoch u32 · job id 16 bytes ·
/// deadline u64 · hop u16 · reserved u16 (zero). For `submit`, `deadline` is the client's
/// timeout in milliseconds (0 = the gateway's default); everywhere else it is the absolute
/// deadline in Unix milliseconds. `hop` is the pipeline index of the role that receives the
/// sealed payload.
public struct MessageHeader: Sendable, Hashable {
    public static let version: UInt8 = 1
    public static let byteCount = 36

    public var type: MessageType
    public var code: UInt16
    public var epoch: UInt32
    public var jobID: JobID
    public var deadline: UInt64
    public var hop: UInt16

    public init(
        type: MessageType, code: UInt16 = 0, epoch: UInt32 = 0, jobID: JobID, deadline: UInt64 = 0, hop: UInt16 = 0
    ) {
        self.type = type
        self.code = code
        self.epoch = epoch
        self.jobID = jobID
        self.deadline = deadline
        self.hop = hop
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.byteCount)
        writer.write(Self.version)
        writer.write(type.rawValue)
        writer.write(code)
        writer.write(epoch)
        writer.write(bytes: jobID.bytes)
        writer.write(deadline)
        writer.write(hop)
        writer.write(UInt16(0))
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        guard bytes.count == Self.byteCount else {
            throw bytes.count < Self.byteCount
                ? .truncated(what: "header", needed: Self.byteCount, available: bytes.count)
                : .trailingBytes(what: "header", count: bytes.count - Self.byteCount)
        }
        var reader = ByteReader(bytes, context: "header")
        let version = try reader.readUInt8()
        guard version == Self.version else { throw .unsupportedVersion(what: "header", version: version) }
        let rawType = try reader.readUInt8()
        guard let type = MessageType(rawValue: rawType) else { throw .unknownType(rawType) }
        self.type = type
        code = try reader.readUInt16()
        epoch = try reader.readUInt32()
        jobID = JobID(bytes: try reader.readBytes(JobID.byteCount))!
        deadline = try reader.readUInt64()
        hop = try reader.readUInt16()
        guard try reader.readUInt16() == 0 else {
            throw .invalidField(what: "header", reason: "reserved bytes must be zero")
        }
    }
}
