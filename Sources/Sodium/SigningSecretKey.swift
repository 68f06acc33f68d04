internal import CSodium

/// An Ed25519 secret key in libsodium's 64-byte form (seed ‖ public key), in secure memory.
public struct SigningSecretKey: Sendable, CustomStringConvertible {
    public static let byteCount = 64
    public let secret: SecureBytes
    public let publicKey: SigningPublicKey

    public init(secret: SecureBytes) throws(SodiumError) {
        guard secret.count == Self.byteCount else {
            throw .invalidLength(what: "signing secret key", expected: Self.byteCount, actual: secret.count)
        }
        SodiumLibrary.ensureInitialized()
        var derived = [UInt8](repeating: 0, count: SigningPublicKey.byteCount)
        let status = secret.withUnsafeBytes { sk in
            crypto_sign_ed25519_sk_to_pk(&derived, sk.bindMemory(to: UInt8.self).baseAddress!)
        }
        guard status == 0 else { throw .failed("crypto_sign_ed25519_sk_to_pk") }
        self.secret = secret
        self.publicKey = try SigningPublicKey(bytes: derived)
    }

    /// The 32-byte seed this key was made from (the first half of the libsodium form).
    public var seed: SecureBytes {
        secret.withUnsafeBytes { SecureBytes(copying: $0.prefix(32)) }
    }

    public var description: String { "SigningSecretKey(for \(publicKey.fingerprint), redacted)" }
}
