internal import CSodium

/// Raw X25519 Diffie-Hellman (`crypto_scalarmult`).
public enum X25519 {
    /// The shared secret of `secretKey` and a peer's public key. Refuses low-order public keys
    /// (libsodium returns -1 when the result would be all zeros).
    public static func sharedSecret(secretKey: BoxSecretKey, publicKey: [UInt8]) throws(SodiumError) -> SecureBytes {
        try requireLength(publicKey, BoxPublicKey.byteCount, "X25519 public key")
        SodiumLibrary.ensureInitialized()
        let shared = SecureBytes(count: Int(crypto_scalarmult_BYTES))
        let status = shared.withUnsafeMutableBytes { output in
            secretKey.secret.withUnsafeBytes { sk in
                crypto_scalarmult(
                    output.bindMemory(to: UInt8.self).baseAddress!, sk.bindMemory(to: UInt8.self).baseAddress!,
                    publicKey)
            }
        }
        guard status == 0 else { throw .lowOrderPoint }
        return shared
    }
}
