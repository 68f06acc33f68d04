internal import CSodium

/// Authenticated public-key encryption (`crypto_box_easy`: X25519, HSalsa20, XSalsa20-Poly1305).
///
/// Unlike a sealed box, the recipient learns which key pair sent the message.
public enum Box {
    public static let nonceByteCount = 24
    public static let tagByteCount = 16

    /// Encrypts `plaintext` from `sender` to `recipient`. Refuses a low-order recipient key.
    public static func seal(_ plaintext: [UInt8], nonce: [UInt8], to recipient: BoxPublicKey, from sender: BoxSecretKey)
        throws(SodiumError) -> [UInt8]
    {
        try requireLength(nonce, nonceByteCount, "box nonce")
        SodiumLibrary.ensureInitialized()
        var status: Int32 = 0
        let output = [UInt8](unsafeUninitializedCapacity: plaintext.count + tagByteCount) { buffer, initialized in
            status = sender.secret.withUnsafeBytes { sk in
                crypto_box_easy(
                    buffer.baseAddress!, plaintext, UInt64(plaintext.count), nonce, recipient.bytes,
                    sk.bindMemory(to: UInt8.self).baseAddress!)
            }
            initialized = plaintext.count + tagByteCount
        }
        guard status == 0 else { throw .lowOrderPoint }
        return output
    }

    /// Opens a box from `sender`. Every failure is `.couldNotOpen`.
    public static func open(
        _ ciphertext: [UInt8], nonce: [UInt8], from sender: BoxPublicKey, to recipient: BoxSecretKey
    )
        throws(SodiumError) -> SecureBytes
    {
        guard nonce.count == nonceByteCount, ciphertext.count >= tagByteCount else { throw .couldNotOpen }
        SodiumLibrary.ensureInitialized()
        let plaintext = SecureBytes(count: ciphertext.count - tagByteCount)
        let scratch: [UInt8] = [0]
        let status = plaintext.withUnsafeMutableBytes { output in
            recipient.secret.withUnsafeBytes { sk in
                scratch.withUnsafeBufferPointer { fallback in
                    crypto_box_open_easy(
                        output.bindMemory(to: UInt8.self).baseAddress
                            ?? UnsafeMutablePointer(mutating: fallback.baseAddress!),
                        ciphertext, UInt64(ciphertext.count), nonce, sender.bytes,
                        sk.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard status == 0 else { throw .couldNotOpen }
        return plaintext
    }

    /// The precomputed shared key (`crypto_box_beforenm`) of a key pair's two sides.
    public static func sharedKey(publicKey: BoxPublicKey, secretKey: BoxSecretKey) throws(SodiumError) -> SecureBytes {
        SodiumLibrary.ensureInitialized()
        let key = SecureBytes(count: Int(crypto_box_BEFORENMBYTES))
        let status = key.withUnsafeMutableBytes { output in
            secretKey.secret.withUnsafeBytes { sk in
                crypto_box_beforenm(
                    output.bindMemory(to: UInt8.self).baseAddress!, publicKey.bytes,
                    sk.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard status == 0 else { throw .lowOrderPoint }
        return key
    }
}
