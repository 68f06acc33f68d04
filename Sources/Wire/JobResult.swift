/// The plaintext a client opens with its reply key: which job, and its output.
///
/// Layout: version u8 · job id 16 · body (u32 length + bytes). For the embedding workload the
/// body is the embedding as little-endian float32 values.
public struct JobResult: Sendable {
    public static let version: UInt8 = 1
    public var jobID: JobID
    public var body: [UInt8]

    public init(jobID: JobID, body: [UInt8]) {
        self.jobID = jobID
        self.body = body
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 21 + body.count)
        writer.write(Self.version)
        writer.write(bytes: jobID.bytes)
        writer.writeLengthPrefixed(body)
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

    /// The body read as little-endian float32 values, or `nil` if its length is not a multiple of 4.
    public var floats: [Float]? {
        guard body.count % 4 == 0 else { return nil }
        var reader = ByteReader(body, context: "float body")
        var values: [Float] = []
        values.reserveCapacity(body.count / 4)
        while reader.remaining > 0, let bits = try? reader.readUInt32() {
            values.append(Float(bitPattern: bits))
        }
        return values
    }

    /// Encodes floats as the little-endian float32 body.
    public static func body(floats: [Float]) -> [UInt8] {
        var writer = ByteWriter(capacity: floats.count * 4)
        for value in floats { writer.write(value.bitPattern) }
        return writer.bytes
    }
}
