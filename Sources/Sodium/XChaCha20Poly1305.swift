internal import CSodium

/// The XChaCha20-Poly1305 IETF AEAD: secret-key encryption with associated data, 24-byte
/// nonces that are safe to choose at random.
public enum XChaCha20Poly1305 {
    public static let keyByteCount = 32
    public static let nonceByteCount = 24
    public static let tagByteCount = 16

    public static func seal(_ plaintext: [UInt8], key: SecureBytes, nonce: [UInt8], associatedData: [UInt8]) -> [UInt8]
    {
        plaintext.withUnsafeBytes { seal(raw: $0, key: key, nonce: nonce, associatedData: associatedData) }
    }

    public static func seal(_ plaintext: SecureBytes, key: SecureBytes, nonce: [UInt8], associatedData: [UInt8])
        -> [UInt8]
    {
        plaintext.withUnsafeBytes { seal(raw: $0, key: key, nonce: nonce, associatedData: associatedData) }
    }

    /// Seals bytes from any contiguous buffer. Key and nonce lengths are programming errors.
    public static func seal(
        raw plaintext: UnsafeRawBufferPointer, key: SecureBytes, nonce: [UInt8], associatedData: [UInt8]
    )
        -> [UInt8]
    {
        precondition(key.count == keyByteCount, "XChaCha20-Poly1305 key must be 32 bytes")
        precondition(nonce.count == nonceByteCount, "XChaCha20-Poly1305 nonce must be 24 bytes")
        SodiumLibrary.ensureInitialized()
        let capacity = plaintext.count + tagByteCount
        return [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            var written: UInt64 = 0
            let status = key.withUnsafeBytes { k in
                associatedData.withUnsafeBufferPointer { ad in
                    crypto_aead_xchacha20poly1305_ietf_encrypt(
                        buffer.baseAddress!, &written, plaintext.bindMemory(to: UInt8.self).baseAddress,
                        UInt64(plaintext.count), ad.baseAddress, UInt64(ad.count), nil, nonce,
                        k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
            precondition(status == 0, "crypto_aead_xchacha20poly1305_ietf_encrypt failed")
            initialized = Int(written)
        }
    }

    /// Opens and authenticates. Every failure is `.couldNotOpen`.
    public static func open(_ ciphertext: [UInt8], key: SecureBytes, nonce: [UInt8], associatedData: [UInt8])
        throws(SodiumError) -> SecureBytes
    {
        guard key.count == keyByteCount, nonce.count == nonceByteCount, ciphertext.count >= tagByteCount else {
            throw .couldNotOpen
        }
        SodiumLibrary.ensureInitialized()
        let plaintext = SecureBytes(count: ciphertext.count - tagByteCount)
        let one: [UInt8] = [0]
        let status = plaintext.withUnsafeMutableBytes { output in
            key.withUnsafeBytes { k in
                associatedData.withUnsafeBufferPointer { ad in
                    one.withUnsafeBufferPointer { fallback in
                        var written: UInt64 = 0
                        return crypto_aead_xchacha20poly1305_ietf_decrypt(
                            output.bindMemory(to: UInt8.self).baseAddress
                                ?? UnsafeMutablePointer(mutating: fallback.baseAddress!),
                            &written, nil, ciphertext, UInt64(ciphertext.count), ad.baseAddress, UInt64(ad.count),
                            nonce, k.bindMemory(to: UInt8.self).baseAddress!)
                    }
                }
            }
        }
        guard status == 0 else { throw .couldNotOpen }
        return plaintext
    }
}
