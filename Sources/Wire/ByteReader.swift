/// Reads little-endian integers and length-prefixed fields, refusing to read past the end.
public struct ByteReader: Sendable {
    private let bytes: [UInt8]
    private var offset: Int
    /// What is being decoded, for error messages.
    public let context: String

    public init(_ bytes: [UInt8], context: String) {
        self.bytes = bytes
        self.offset = 0
        self.context = context
    }

    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt8() throws(WireError) -> UInt8 { try readInteger() }
    public mutating func readUInt16() throws(WireError) -> UInt16 { try readInteger() }
    public mutating func readUInt32() throws(WireError) -> UInt32 { try readInteger() }
    public mutating func readUInt64() throws(WireError) -> UInt64 { try readInteger() }

    public mutating func readBytes(_ count: Int) throws(WireError) -> [UInt8] {
        guard count >= 0, count <= remaining else {
            throw .truncated(what: context, needed: count, available: remaining)
        }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    /// A field preceded by its u32 length, at most `limit` bytes long.
    public mutating func readLengthPrefixed(limit: Int = Int(UInt32.max)) throws(WireError) -> [UInt8] {
        let count = Int(try readUInt32())
        guard count <= limit else {
            throw .invalidField(what: context, reason: "field of \(count) bytes exceeds the limit of \(limit)")
        }
        return try readBytes(count)
    }

    public mutating func readShortString() throws(WireError) -> String {
        let count = Int(try readUInt16())
        let raw = try readBytes(count)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw .invalidField(what: context, reason: "name is not UTF-8")
        }
        return text
    }

    /// Everything not yet read.
    public mutating func readRest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }

    /// Refuses leftover bytes: a message has exactly one encoding.
    public func expectEnd() throws(WireError) {
        guard remaining == 0 else { throw .trailingBytes(what: context, count: remaining) }
    }

    private mutating func readInteger<T: FixedWidthInteger>() throws(WireError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw .truncated(what: context, needed: size, available: remaining) }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[offset + index]) << (8 * index) }
        offset += size
        return value
    }
}
