/// The digests a job's receipts carry (`StageReceipt` in Wire): BLAKE2b-256 keyed with the job's
/// 32-byte reply public key, over the job's plaintext as a stage received or produced it.
///
/// Keyed, so that nobody without the reply public key — it travels only sealed, from the client
/// to the stages — can test a guessed input against a published receipt; a verifier only
/// compares digests for equality, hop to hop. Over plaintext rather than ciphertext because a
/// stage's receipt rides inside the very box its output is sealed into.
public enum ReceiptDigest {
    public static let byteCount = 32

    public static func of(_ bytes: [UInt8], replyKey: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(bytes, outputLength: byteCount, key: replyKey)
    }

    /// The digest of bytes in place (secret memory), without copying them.
    public static func of(raw bytes: UnsafeRawBufferPointer, replyKey: [UInt8]) -> [UInt8] {
        BLAKE2b.hash(raw: bytes, outputLength: byteCount, key: replyKey)
    }
}
