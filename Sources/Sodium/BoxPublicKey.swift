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
    public var fingerprint: String { PublicKeyText.fingerprint(bytes) }

    public var description: String { "BoxPublicKey(\(fingerprint))" }

    public init(from decoder: any Decoder) throws {
        bytes = try PublicKeyText.decode(from: decoder, byteCount: Self.byteCount)
    }

    public func encode(to encoder: any Encoder) throws {
        try PublicKeyText.encode(bytes, to: encoder)
    }
}
