/// Big-endian, length-prefixed encoding used for every signed or hashed structure in Trust,
/// so that one value has exactly one byte form.
struct CanonicalWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
        }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    mutating func i64(_ value: Int64) { u64(UInt64(bitPattern: value)) }

    /// Raw bytes of a length fixed by the format.
    mutating func fixed(_ value: [UInt8]) { bytes += value }

    /// u32 length, then the bytes.
    mutating func data(_ value: [UInt8]) {
        u32(UInt32(value.count))
        bytes += value
    }

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

/// Reads what `CanonicalWriter` wrote; every read is bounds-checked and names its field.
struct CanonicalReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    mutating func u8(_ what: String) throws(CanonicalDecodingError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated(what: what) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func bool(_ what: String) throws(CanonicalDecodingError) -> Bool {
        switch try u8(what) {
        case 0: return false
        case 1: return true
        default: throw .invalidValue(what: what)
        }
    }

    mutating func u32(_ what: String) throws(CanonicalDecodingError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated(what: what) }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return value
    }

    mutating func u64(_ what: String) throws(CanonicalDecodingError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated(what: what) }
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return value
    }

    mutating func i64(_ what: String) throws(CanonicalDecodingError) -> Int64 {
        Int64(bitPattern: try u64(what))
    }

    mutating func fixed(_ count: Int, _ what: String) throws(CanonicalDecodingError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated(what: what) }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
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
