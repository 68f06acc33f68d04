internal import CSodium

/// An X25519 public key used to address sealed boxes.
public struct BoxPublicKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let byteCount = 32
    /// The 32 raw key bytes.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(SodiumError) {
        try requireLength(bytes, Self.byteCount, "box public key")
        self.bytes = bytes
    }

    /// Short fingerprint for logs: the first 8 bytes of BLAKE2b-256 of the key, in hex.
    public var fingerprint: String { Hex.encode(Array(BLAKE2b.hash(bytes, outputLength: 32).prefix(8))) }

    public var description: String { "BoxPublicKey(\(fingerprint))" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let bytes = Hex.decode(text), bytes.count == Self.byteCount else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected 32 bytes of hex")
        }
        self.bytes = bytes
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Hex.encode(bytes))
    }
}
