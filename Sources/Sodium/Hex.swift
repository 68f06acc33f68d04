/// Lower-case hexadecimal for public values (keys, digests, ids) — never for secrets.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var characters: [UInt8] = []
        characters.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    /// Decodes hex (either case, surrounding whitespace ignored); `nil` if it is not hex.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(utf8: Array(text.utf8.drop(while: isSpace).reversed().drop(while: isSpace).reversed()))
    }

    /// Decodes hex with whitespace and line breaks anywhere (hex report files, wrapped lines);
    /// `nil` if anything else is there.
    public static func decode(spaced text: String) -> [UInt8]? {
        decode(utf8: text.utf8.filter { !isSpace($0) })
    }

    private static func isSpace(_ character: UInt8) -> Bool {
        character == 0x20 || character == 0x0a || character == 0x0d || character == 0x09
    }

    private static func decode(utf8: [UInt8]) -> [UInt8]? {
        guard utf8.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func value(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
