internal import CSodium

/// Anonymous public-key encryption (`crypto_box_seal`): only the holder of the recipient's
/// secret key can open it, and it says nothing about who sealed it.
public enum SealedBox {
    /// Bytes a sealed box adds to its plaintext: ephemeral public key (32) and tag (16).
    public static let overhead = 48

    /// Seals to `recipient`. Refuses (`.lowOrderPoint`) a recipient key that is a low-order
    /// point, which would make the shared secret predictable; such keys can arrive from peers.
    public static func seal(_ plaintext: [UInt8], to recipient: BoxPublicKey) throws(SodiumError) -> [UInt8] {
        try plaintext.withUnsafeBytes { raw in
            Result { () throws(SodiumError) in try seal(rawPlaintext: raw, to: recipient) }
        }.get()
    }

    public static func seal(_ plaintext: SecureBytes, to recipient: BoxPublicKey) throws(SodiumError) -> [UInt8] {
        try plaintext.withUnsafeBytes { (raw) throws(SodiumError) in try seal(rawPlaintext: raw, to: recipient) }
    }

    /// Seals bytes the caller holds in any contiguous buffer (avoids a copy on hot paths).
    public static func seal(rawPlaintext plaintext: UnsafeRawBufferPointer, to recipient: BoxPublicKey)
        throws(SodiumError)
        -> [UInt8]
    {
        SodiumLibrary.ensureInitialized()
        let messageLength = plaintext.count
        var status: Int32 = 0
        let sealed = [UInt8](unsafeUninitializedCapacity: messageLength + overhead) { buffer, initialized in
            status = crypto_box_seal(
                buffer.baseAddress!, plaintext.bindMemory(to: UInt8.self).baseAddress ?? emptyInput,
                UInt64(messageLength), recipient.bytes)
            initialized = status == 0 ? messageLength + overhead : 0
        }
        // crypto_box_seal fails only when the key exchange yields the all-zero secret.
        guard status == 0 else { throw .lowOrderPoint }
        return sealed
    }

    /// Opens a sealed box. Every failure (wrong key, tampering, truncation) is `.couldNotOpen`.
    public static func open(_ ciphertext: [UInt8], with recipient: BoxKeyPair) throws(SodiumError) -> SecureBytes {
        // `Array.withUnsafeBytes` only rethrows untyped errors; carry the typed one out in a Result.
        try ciphertext.withUnsafeBytes { raw in
            Result { () throws(SodiumError) in try open(rawCiphertext: raw, with: recipient) }
        }.get()
    }

    public static func open(rawCiphertext ciphertext: UnsafeRawBufferPointer, with recipient: BoxKeyPair)
        throws(SodiumError)
        -> SecureBytes
    {
        SodiumLibrary.ensureInitialized()
        guard ciphertext.count >= overhead else { throw .couldNotOpen }
        let plaintext = SecureBytes(count: ciphertext.count - overhead)
        let status = plaintext.withUnsafeMutableBytes { output in
            recipient.secretKey.secret.withUnsafeBytes { sk in
                crypto_box_seal_open(
                    output.bindMemory(to: UInt8.self).baseAddress ?? emptyOutput,
                    ciphertext.bindMemory(to: UInt8.self).baseAddress!, UInt64(ciphertext.count),
                    recipient.publicKey.bytes, sk.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard status == 0 else { throw .couldNotOpen }
        return plaintext
    }
}

// libsodium wants a valid pointer even for zero-length buffers.
nonisolated(unsafe) private let emptyInputStorage = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
private var emptyInput: UnsafePointer<UInt8> { UnsafePointer(emptyInputStorage) }
nonisolated(unsafe) private let emptyOutput = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
