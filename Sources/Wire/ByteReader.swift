/// The order of an integer's bytes: the wire's layouts are little-endian, the trust layer's
/// canonical (signed and hashed) forms big-endian. Every reader and writer names its own.
public enum ByteOrder: Sendable {
    case littleEndian, bigEndian
}

/// Reads integers in one byte order and length-prefixed fields from any contiguous byte view
/// (`[UInt8]`, or an `UnsafeRawBufferPointer` into secret memory), refusing to read past the end.
///
/// Over secret memory, read bodies as ranges (`readRange`, `readLengthPrefixedRange`) so they
/// are never copied into an ordinary array; `readBytes` copies, for clear fields and keys.
public struct ByteReader<Bytes: RandomAccessCollection> where Bytes.Element == UInt8, Bytes.Index == Int {
    private let bytes: Bytes
    /// Where the next read starts, as an index of the viewed buffer.
    public private(set) var offset: Int
    /// What is being decoded, for error messages.
    public let context: String
    public let byteOrder: ByteOrder

    public init(_ bytes: Bytes, context: String, byteOrder: ByteOrder = .littleEndian) {
        self.bytes = bytes
        self.offset = bytes.startIndex
        self.context = context
        self.byteOrder = byteOrder
    }

    public var remaining: Int { bytes.endIndex - offset }

    public mutating func readUInt8() throws(WireError) -> UInt8 { try readInteger() }
    public mutating func readUInt16() throws(WireError) -> UInt16 { try readInteger() }
    public mutating func readUInt32() throws(WireError) -> UInt32 { try readInteger() }
    public mutating func readUInt64() throws(WireError) -> UInt64 { try readInteger() }

    /// The next `count` bytes, copied.
    public mutating func readBytes(_ count: Int) throws(WireError) -> [UInt8] {
        Array(bytes[try readRange(count)])
    }

    /// Where the next `count` bytes lie in the viewed buffer, without copying them.
    public mutating func readRange(_ count: Int) throws(WireError) -> Range<Int> {
        guard count >= 0, count <= remaining else {
            throw .truncated(what: context, needed: count, available: remaining)
        }
        defer { offset += count }
        return offset..<offset + count
    }

    /// A field preceded by its u32 length, at most `limit` bytes long, copied.
    public mutating func readLengthPrefixed(limit: Int = Int(UInt32.max)) throws(WireError) -> [UInt8] {
        Array(bytes[try readLengthPrefixedRange(limit: limit)])
    }

    /// Where a field preceded by its u32 length (at most `limit` bytes) lies, without copying it.
    public mutating func readLengthPrefixedRange(limit: Int = Int(UInt32.max)) throws(WireError) -> Range<Int> {
        let count = Int(try readUInt32())
        guard count <= limit else {
            throw .invalidField(what: context, reason: "field of \(count) bytes exceeds the limit of \(limit)")
        }
        return try readRange(count)
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
        defer { offset = bytes.endIndex }
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
        for index in 0..<size {
            let shift = byteOrder == .littleEndian ? 8 * index : 8 * (size - 1 - index)
            value |= T(bytes[offset + index]) << shift
        }
        offset += size
        return value
    }
}

extension ByteReader: Sendable where Bytes: Sendable {}
