internal import CSodium

/// An X25519 secret key, held in secure memory.
public struct BoxSecretKey: Sendable, CustomStringConvertible {
    public static let byteCount = 32
    /// The 32 secret bytes.
    public let secret: SecureBytes
    /// The matching public key, derived once.
    public let publicKey: BoxPublicKey

    public init(secret: SecureBytes) throws(SodiumError) {
        guard secret.count == Self.byteCount else {
            throw .invalidLength(what: "box secret key", expected: Self.byteCount, actual: secret.count)
        }
        SodiumLibrary.ensureInitialized()
        var derived = [UInt8](repeating: 0, count: BoxPublicKey.byteCount)
        let status = secret.withUnsafeBytes { sk in
            crypto_scalarmult_base(&derived, sk.bindMemory(to: UInt8.self).baseAddress!)
        }
        guard status == 0 else { throw .failed("crypto_scalarmult_base") }
        self.secret = secret
        self.publicKey = try BoxPublicKey(bytes: derived)
    }

    public var description: String { "BoxSecretKey(for \(publicKey.fingerprint), redacted)" }
}
