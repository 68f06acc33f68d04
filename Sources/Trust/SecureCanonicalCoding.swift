import Sodium
import Wire

/// Builds canonical bytes that include secrets straight into `SecureBytes`: public parts and
/// secrets are collected as parts, then copied once into one locked, wiped buffer.
struct SecureCanonicalWriter {
    private enum Part {
        case plain([UInt8])
        case secret(SecureBytes)
    }

    private var parts: [Part] = []
    private var plain = CanonicalWriter()

    private mutating func flush() {
        if !plain.bytes.isEmpty {
            parts.append(.plain(plain.bytes))
            plain = CanonicalWriter()
        }
    }

    mutating func u8(_ value: UInt8) { plain.u8(value) }
    mutating func bool(_ value: Bool) { plain.bool(value) }
    mutating func u32(_ value: UInt32) { plain.u32(value) }
    mutating func u64(_ value: UInt64) { plain.u64(value) }
    mutating func data(_ value: [UInt8]) { plain.data(value) }
    mutating func string(_ value: String) { plain.string(value) }

    /// u32 length, then the secret's bytes (never copied into an ordinary array).
    mutating func secret(_ value: SecureBytes) {
        plain.u32(UInt32(value.count))
        flush()
        parts.append(.secret(value))
    }

    mutating func finish() -> SecureBytes {
        flush()
        let total = parts.reduce(0) { sum, part in
            switch part {
            case .plain(let bytes): sum + bytes.count
            case .secret(let secret): sum + secret.count
            }
        }
        let output = SecureBytes(count: total)
        output.withUnsafeMutableBytes { out in
            var offset = 0
            for part in parts {
                switch part {
                case .plain(let bytes):
                    bytes.withUnsafeBytes {
                        out.baseAddress!.advanced(by: offset).copyMemory(from: $0.baseAddress!, byteCount: bytes.count)
                    }
                    offset += bytes.count
                case .secret(let secret):
                    secret.withUnsafeBytes { src in
                        if src.count > 0 {
                            out.baseAddress!.advanced(by: offset).copyMemory(
                                from: src.baseAddress!, byteCount: src.count)
                        }
                    }
                    offset += secret.count
                }
            }
        }
        return output
    }
}

/// Reads canonical bytes out of a buffer holding secrets; secrets are copied straight into new
/// `SecureBytes`. The wire's one reader, big-endian, over the secret buffer in place.
struct SecureCanonicalReader {
    private let buffer: UnsafeRawBufferPointer
    private var reader: ByteReader<UnsafeRawBufferPointer>

    init(_ buffer: UnsafeRawBufferPointer) {
        self.buffer = buffer
        reader = ByteReader(buffer, context: "canonical bytes", byteOrder: .bigEndian)
    }

    var offset: Int { reader.offset }
    var remaining: Int { reader.remaining }

    private mutating func take(_ count: Int, _ what: String) throws(CanonicalDecodingError) -> Range<Int> {
        do { return try reader.readRange(count) } catch { throw .truncated(what: what) }
    }

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

    mutating func data(_ what: String) throws(CanonicalDecodingError) -> [UInt8] {
        do { return try reader.readBytes(Int(try u32(what))) } catch { throw .truncated(what: what) }
    }

    mutating func string(_ what: String) throws(CanonicalDecodingError) -> String {
        guard let text = String(validating: try data(what), as: UTF8.self) else { throw .invalidValue(what: what) }
        return text
    }

    mutating func secret(_ what: String) throws(CanonicalDecodingError) -> SecureBytes {
        let range = try take(Int(try u32(what)), what)
        return SecureBytes(copying: UnsafeRawBufferPointer(rebasing: buffer[range]))
    }

    func finish() throws(CanonicalDecodingError) {
        guard remaining == 0 else { throw .trailingBytes(count: remaining) }
    }
}
