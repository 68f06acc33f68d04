import Wire

/// Big-endian, length-prefixed encoding used for every signed or hashed structure in Trust,
/// so that one value has exactly one byte form: the wire's one writer, big-endian.
struct CanonicalWriter {
    private var writer = ByteWriter(byteOrder: .bigEndian)
    var bytes: [UInt8] { writer.bytes }

    mutating func u8(_ value: UInt8) { writer.write(value) }

    mutating func bool(_ value: Bool) { writer.write(value ? UInt8(1) : 0) }

    mutating func u32(_ value: UInt32) { writer.write(value) }

    mutating func u64(_ value: UInt64) { writer.write(value) }

    mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }

    /// Raw bytes of a length fixed by the format.
    mutating func fixed(_ value: [UInt8]) { writer.write(bytes: value) }

    /// u32 length, then the bytes.
    mutating func data(_ value: [UInt8]) { writer.writeLengthPrefixed(value) }

    mutating func string(_ value: String) { data(Array(value.utf8)) }

    mutating func strings(_ values: [String]) {
        u32(UInt32(values.count))
        for value in values { string(value) }
    }
}

/// Why canonical bytes could not be decoded.
public enum CanonicalDecodingError: Error, Equatable, Sendable {
    case truncated(what: String)
    case invalidValue(what: String)
    case trailingBytes(count: Int)
    case unsupportedVersion(UInt8)
}

/// Reads what `CanonicalWriter` wrote; every read is bounds-checked and names its field. The
/// wire's one reader, big-endian; its errors become this layer's, naming the field.
struct CanonicalReader {
    private var reader: ByteReader<[UInt8]>

    init(_ bytes: [UInt8]) { reader = ByteReader(bytes, context: "canonical bytes", byteOrder: .bigEndian) }

    var offset: Int { reader.offset }
    var remaining: Int { reader.remaining }

    mutating func u8(_ what: String) throws(CanonicalDecodingError) -> UInt8 {
        do { return try reader.readUInt8() } catch { throw .truncated(what: what) }
    }

    mutating func bool(_ what: String) throws(CanonicalDecodingError) -> Bool {
        switch try u8(what) {
        case 0: return false
        case 1: return true
        default: throw .invalidValue(what: what)
        }
    }

    mutating func u32(_ what: String) throws(CanonicalDecodingError) -> UInt32 {
        do { return try reader.readUInt32() } catch { throw .truncated(what: what) }
    }

    mutating func u64(_ what: String) throws(CanonicalDecodingError) -> UInt64 {
        do { return try reader.readUInt64() } catch { throw .truncated(what: what) }
    }

    mutating func i64(_ what: String) throws(CanonicalDecodingError) -> Int64 {
        Int64(bitPattern: try u64(what))
    }

    mutating func fixed(_ count: Int, _ what: String) throws(CanonicalDecodingError) -> [UInt8] {
        do { return try reader.readBytes(count) } catch { throw .truncated(what: what) }
    }

    mutating func data(_ what: String, limit: Int = 1 << 26) throws(CanonicalDecodingError) -> [UInt8] {
        let count = Int(try u32(what))
        guard count <= limit else { throw .invalidValue(what: what) }
        return try fixed(count, what)
    }

    mutating func string(_ what: String) throws(CanonicalDecodingError) -> String {
        let raw = try data(what, limit: 1 << 16)
        guard let text = String(validating: raw, as: UTF8.self) else { throw .invalidValue(what: what) }
        return text
    }

    mutating func strings(_ what: String) throws(CanonicalDecodingError) -> [String] {
        let count = try u32(what)
        guard Int(count) <= remaining else { throw .truncated(what: what) }
        var values: [String] = []
        for _ in 0..<count { values.append(try string(what)) }
        return values
    }

    func finish() throws(CanonicalDecodingError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}
