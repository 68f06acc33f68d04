internal import CSodium

/// An Ed25519 public key: checks that a message came from the holder of the secret key.
public struct SigningPublicKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public static let byteCount = 32
    public static let signatureByteCount = 64
    /// The 32 raw key bytes.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws(SodiumError) {
        try requireLength(bytes, Self.byteCount, "signing public key")
        self.bytes = bytes
    }

    /// Verifies a detached Ed25519 signature. Any malformed input is simply "not valid".
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        message.withUnsafeBytes { isValidSignature(signature, forRaw: $0) }
    }

    /// Verifies a detached signature over bytes in any contiguous buffer.
    public func isValidSignature(_ signature: [UInt8], forRaw message: UnsafeRawBufferPointer) -> Bool {
        SodiumLibrary.ensureInitialized()
        guard signature.count == Self.signatureByteCount else { return false }
        let one: [UInt8] = [0]
        return one.withUnsafeBufferPointer { fallback in
            crypto_sign_verify_detached(
                signature, message.bindMemory(to: UInt8.self).baseAddress ?? fallback.baseAddress!,
                UInt64(message.count), bytes) == 0
        }
    }

    /// Short fingerprint for logs: the first 8 bytes of BLAKE2b-256 of the key, in hex.
    public var fingerprint: String { PublicKeyText.fingerprint(bytes) }

    public var description: String { "SigningPublicKey(\(fingerprint))" }

    public init(from decoder: any Decoder) throws {
        bytes = try PublicKeyText.decode(from: decoder, byteCount: Self.byteCount)
    }

    public func encode(to encoder: any Encoder) throws {
        try PublicKeyText.encode(bytes, to: encoder)
    }
}
