internal import CSodium

/// Secret-key authenticated encryption (`crypto_secretbox_easy`, XSalsa20-Poly1305).
public enum SecretBox {
    public static let keyByteCount = 32
    public static let nonceByteCount = 24
    public static let tagByteCount = 16

    public static func seal(_ plaintext: [UInt8], nonce: [UInt8], key: SecureBytes) throws(SodiumError) -> [UInt8] {
        try requireLength(nonce, nonceByteCount, "secretbox nonce")
        guard key.count == keyByteCount else {
            throw .invalidLength(what: "secretbox key", expected: keyByteCount, actual: key.count)
        }
        SodiumLibrary.ensureInitialized()
        return [UInt8](unsafeUninitializedCapacity: plaintext.count + tagByteCount) { buffer, initialized in
            let status = key.withUnsafeBytes { k in
                crypto_secretbox_easy(
                    buffer.baseAddress!, plaintext, UInt64(plaintext.count), nonce,
                    k.bindMemory(to: UInt8.self).baseAddress!)
            }
            precondition(status == 0, "crypto_secretbox_easy failed")
            initialized = plaintext.count + tagByteCount
        }
    }

    /// Every failure is `.couldNotOpen`.
    public static func open(_ ciphertext: [UInt8], nonce: [UInt8], key: SecureBytes) throws(SodiumError) -> SecureBytes
    {
        guard nonce.count == nonceByteCount, key.count == keyByteCount, ciphertext.count >= tagByteCount else {
            throw .couldNotOpen
        }
        SodiumLibrary.ensureInitialized()
        let plaintext = SecureBytes(count: ciphertext.count - tagByteCount)
        let scratch: [UInt8] = [0]
        let status = plaintext.withUnsafeMutableBytes { output in
            key.withUnsafeBytes { k in
                scratch.withUnsafeBufferPointer { fallback in
                    crypto_secretbox_open_easy(
                        output.bindMemory(to: UInt8.self).baseAddress
                            ?? UnsafeMutablePointer(mutating: fallback.baseAddress!),
                        ciphertext, UInt64(ciphertext.count), nonce, k.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
        }
        guard status == 0 else { throw .couldNotOpen }
        return plaintext
    }
}
