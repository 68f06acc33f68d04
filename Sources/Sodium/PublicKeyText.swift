/// The shared text form of public keys: lower-case hex in Codable, a short BLAKE2b
/// fingerprint in logs. One place, so box and signing keys cannot drift apart.
enum PublicKeyText {
    static func fingerprint(_ bytes: [UInt8]) -> String {
        Hex.encode(Array(BLAKE2b.hash(bytes, outputLength: 32).prefix(8)))
    }

    static func decode(from decoder: any Decoder, byteCount: Int) throws -> [UInt8] {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let bytes = Hex.decode(text), bytes.count == byteCount else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected \(byteCount) bytes of hex")
        }
        return bytes
    }

    static func encode(_ bytes: [UInt8], to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Hex.encode(bytes))
    }
}
