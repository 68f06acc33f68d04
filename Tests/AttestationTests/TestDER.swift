import Foundation

/// A few DER encoders, enough to write the certificates and CRLs of `TestPKI` by hand. Test-only:
/// the product reads DER with swift-asn1 and never writes any.
enum TestDER {
    static func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
        var length: [UInt8]
        if content.count < 0x80 {
            length = [UInt8(content.count)]
        } else {
            var n = content.count
            length = []
            while n > 0 {
                length.insert(UInt8(n & 0xff), at: 0)
                n >>= 8
            }
            length.insert(0x80 | UInt8(length.count), at: 0)
        }
        return [tag] + length + content
    }

    static func sequence(_ parts: [[UInt8]]) -> [UInt8] { tlv(0x30, parts.flatMap { $0 }) }
    static func set(_ parts: [[UInt8]]) -> [UInt8] { tlv(0x31, parts.flatMap { $0 }) }
    static func octets(_ bytes: [UInt8]) -> [UInt8] { tlv(0x04, bytes) }
    static func bits(_ bytes: [UInt8]) -> [UInt8] { tlv(0x03, [0] + bytes) }
    static func boolean(_ value: Bool) -> [UInt8] { tlv(0x01, [value ? 0xff : 0x00]) }
    static func utf8(_ text: String) -> [UInt8] { tlv(0x0c, Array(text.utf8)) }
    /// `[n]` EXPLICIT (constructed, context-specific).
    static func explicit(_ n: UInt8, _ content: [UInt8]) -> [UInt8] { tlv(0xa0 | n, content) }

    /// A non-negative INTEGER from its big-endian magnitude (a leading zero added when needed).
    static func integer(_ magnitude: [UInt8]) -> [UInt8] {
        var bytes = Array(magnitude.drop { $0 == 0 })
        if bytes.isEmpty { bytes = [0] }
        if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
        return tlv(0x02, bytes)
    }

    static func integer(_ value: Int) -> [UInt8] {
        integer((0..<8).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) })
    }

    static func oid(_ dotted: String) -> [UInt8] {
        let arcs = dotted.split(separator: ".").map { UInt64($0)! }
        var content: [UInt8] = [UInt8(arcs[0] * 40 + arcs[1])]
        for arc in arcs.dropFirst(2) {
            var chunk: [UInt8] = [UInt8(arc & 0x7f)]
            var rest = arc >> 7
            while rest > 0 {
                chunk.insert(UInt8(rest & 0x7f) | 0x80, at: 0)
                rest >>= 7
            }
            content += chunk
        }
        return tlv(0x06, content)
    }

    /// UTCTime ("YYMMDDHHMMSSZ") for years before 2050, as RFC 5280 requires.
    static func time(_ date: Date) -> [UInt8] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let text = String(
            format: "%02d%02d%02d%02d%02d%02dZ", c.year! % 100, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        return tlv(0x17, Array(text.utf8))
    }

    /// A Name holding one common name.
    static func name(_ commonName: String) -> [UInt8] {
        sequence([set([sequence([oid("2.5.4.3"), utf8(commonName)])])])
    }
}
