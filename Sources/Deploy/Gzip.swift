/// A gzip member (RFC 1952) holding deflate "stored" blocks (RFC 1951 §3.2.4): valid gzip that
/// any reader inflates, without a compressor, for the small documents pods carry in annotations.
enum Gzip {
    static func stored(_ bytes: [UInt8]) -> [UInt8] {
        // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=unknown: no timestamp, so output is reproducible.
        var out: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xFF]
        var offset = 0
        repeat {
            let count = min(65_535, bytes.count - offset)
            let final: UInt8 = offset + count == bytes.count ? 1 : 0
            out.append(final)
            out += littleEndian(UInt32(count), bytes: 2)
            out += littleEndian(UInt32(~UInt16(count)), bytes: 2)
            out += bytes[offset..<offset + count]
            offset += count
        } while offset < bytes.count
        out += littleEndian(crc32(bytes), bytes: 4)
        out += littleEndian(UInt32(truncatingIfNeeded: bytes.count), bytes: 4)
        return out
    }

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    private static func littleEndian(_ value: UInt32, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
    }
}
