internal import CSodium

/// An X25519 key pair: the recipient side of sealed boxes.
public struct BoxKeyPair: Sendable {
    public let publicKey: BoxPublicKey
    public let secretKey: BoxSecretKey

    /// A fresh random key pair.
    public static func generate() -> BoxKeyPair {
        SodiumLibrary.ensureInitialized()
        let secret = SecureBytes(count: BoxSecretKey.byteCount)
        var publicBytes = [UInt8](repeating: 0, count: BoxPublicKey.byteCount)
        let status = secret.withUnsafeMutableBytes { sk in
            crypto_box_keypair(&publicBytes, sk.bindMemory(to: UInt8.self).baseAddress!)
        }
        precondition(status == 0, "crypto_box_keypair failed")
        // Deriving again costs one scalar multiplication and keeps one code path for the public key.
        return BoxKeyPair(secretKey: try! BoxSecretKey(secret: secret))
    }

    /// The deterministic key pair of `crypto_box_seed_keypair` (secret = SHA-512(seed)[0..<32]).
    public init(seed: [UInt8]) throws(SodiumError) {
        try requireLength(seed, Int(crypto_box_SEEDBYTES), "box seed")
        SodiumLibrary.ensureInitialized()
        let secret = SecureBytes(count: BoxSecretKey.byteCount)
        var publicBytes = [UInt8](repeating: 0, count: BoxPublicKey.byteCount)
        let status = secret.withUnsafeMutableBytes { sk in
            crypto_box_seed_keypair(&publicBytes, sk.bindMemory(to: UInt8.self).baseAddress!, seed)
        }
        guard status == 0 else { throw .failed("crypto_box_seed_keypair") }
        self.init(secretKey: try BoxSecretKey(secret: secret))
    }

    public init(secretKey: BoxSecretKey) {
        self.secretKey = secretKey
        self.publicKey = secretKey.publicKey
    }
}
