/// Appends little-endian integers and length-prefixed fields to a byte buffer.
public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }
    public mutating func write(_ value: UInt16) { append(littleEndian: value) }
    public mutating func write(_ value: UInt32) { append(littleEndian: value) }
    public mutating func write(_ value: UInt64) { append(littleEndian: value) }
    public mutating func write(bytes raw: some Collection<UInt8>) { bytes.append(contentsOf: raw) }

    /// A field preceded by its length as a u32.
    public mutating func writeLengthPrefixed(_ raw: some Collection<UInt8>) {
        write(UInt32(raw.count))
        bytes.append(contentsOf: raw)
    }

    /// A UTF-8 string preceded by its length as a u16 (names, never payloads).
    public mutating func writeShortString(_ text: String) {
        let utf8 = Array(text.utf8)
        precondition(utf8.count <= UInt16.max, "short strings are at most 65535 bytes")
        write(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    private mutating func append<T: FixedWidthInteger>(littleEndian value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
