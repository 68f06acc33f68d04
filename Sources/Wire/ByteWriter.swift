/// Appends integers in the writer's byte order and length-prefixed fields: the one encoder of the
/// wire's layouts (little-endian) and of the trust layer's canonical forms (big-endian), whether
/// into a growing array (`ByteWriter`) or into a buffer of exactly the encoded size that the
/// caller owns (`RawByteWriter`, e.g. secret memory a plaintext is sealed from).
public protocol ByteWriting {
    /// Appends raw bytes as they are.
    mutating func write(raw: UnsafeRawBufferPointer)
    /// The order integers are written in.
    var byteOrder: ByteOrder { get }
}

extension ByteWriting {
    public mutating func write(_ value: UInt8) { Swift.withUnsafeBytes(of: value) { write(raw: $0) } }
    public mutating func write(_ value: UInt16) { write(integer: value) }
    public mutating func write(_ value: UInt32) { write(integer: value) }
    public mutating func write(_ value: UInt64) { write(integer: value) }

    private mutating func write<T: FixedWidthInteger>(integer value: T) {
        let ordered = byteOrder == .littleEndian ? value.littleEndian : value.bigEndian
        Swift.withUnsafeBytes(of: ordered) { write(raw: $0) }
    }
    public mutating func write(bytes raw: some Collection<UInt8>) {
        if raw.withContiguousStorageIfAvailable({ write(raw: UnsafeRawBufferPointer($0)) }) == nil {
            Array(raw).withUnsafeBytes { write(raw: $0) }
        }
    }

    /// A field preceded by its length as a u32.
    public mutating func writeLengthPrefixed(_ raw: some Collection<UInt8>) {
        write(UInt32(raw.count))
        write(bytes: raw)
    }

    /// A field preceded by its length as a u32, read from any byte view (secret memory included).
    public mutating func writeLengthPrefixed(view: some ByteView) {
        write(UInt32(view.count))
        view.withByteView { write(raw: $0) }
    }

    /// A UTF-8 string preceded by its length as a u16 (names, never payloads).
    public mutating func writeShortString(_ text: String) {
        let utf8 = Array(text.utf8)
        precondition(utf8.count <= UInt16.max, "short strings are at most 65535 bytes")
        write(UInt16(utf8.count))
        write(bytes: utf8)
    }
}

/// Contiguous bytes an encoder can read without copying: `[UInt8]`, and (conformed where
/// `Sodium` is available) secret memory.
public protocol ByteView {
    var count: Int { get }
    /// Reads the bytes; the pointer must not escape the closure.
    func withByteView<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension Array: ByteView where Element == UInt8 {
    public func withByteView<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R { withUnsafeBytes(body) }
}

/// Encodes into a growing array.
public struct ByteWriter: ByteWriting, Sendable {
    public private(set) var bytes: [UInt8]
    public let byteOrder: ByteOrder

    public init(capacity: Int = 64, byteOrder: ByteOrder = .littleEndian) {
        self.byteOrder = byteOrder
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }
}

/// Encodes into a buffer the caller sized to the exact encoding; writing past its end is a
/// programming error (the size came from the same layout), so it traps.
public struct RawByteWriter: ByteWriting {
    private let buffer: UnsafeMutableRawBufferPointer
    /// Bytes written so far.
    public private(set) var count = 0
    public let byteOrder: ByteOrder

    public init(_ buffer: UnsafeMutableRawBufferPointer, byteOrder: ByteOrder = .littleEndian) {
        self.buffer = buffer
        self.byteOrder = byteOrder
    }

    /// True when every byte of the buffer has been written.
    public var isFull: Bool { count == buffer.count }

    public mutating func write(raw: UnsafeRawBufferPointer) {
        precondition(raw.count <= buffer.count - count, "RawByteWriter: the encoding is longer than its buffer")
        if let source = raw.baseAddress, raw.count > 0 {
            (buffer.baseAddress! + count).copyMemory(from: source, byteCount: raw.count)
        }
        count += raw.count
    }
}
