/// The exact bytes a stage signs (Ed25519, its role's signing key) for what it sends, and that
/// the receiver verifies with the public key of the role the topology routes from.
///
/// A result (last stage → client), `"sealpipe/hop/v1"` · sender role (u16 length + UTF-8) ·
/// receiver role `client` (same) · job id · epoch u32 · deadline u64 · ciphertext.
///
/// A bundle (stage → next stage), `"sealpipe/bundle/v1"` · sender role · receiver role ·
/// bundle id · epoch u32 · deadline u64 · job table (as sent) · BLAKE2b-256 of the ciphertext.
/// Signing the digest instead of the ciphertext keeps a large bundle to one fast hashing pass;
/// Ed25519 would otherwise hash the whole ciphertext twice to sign and once to verify.
///
/// Binding both roles stops the gateway (or anyone on the wire) from redirecting a hop to
/// another stage; binding the deadline bounds replays; binding the table stops jobs being
/// added, dropped or reordered.
public enum HopSignature {
    public static let domain = Array("sealpipe/hop/v1".utf8)
    public static let bundleDomain = Array("sealpipe/bundle/v1".utf8)
    public static let clientRole = "client"
    /// Bytes of the ciphertext digest a bundle signature covers.
    public static let digestByteCount = 32

    public static func signedBytes(from sender: String, to receiver: String, header: MessageHeader, ciphertext: [UInt8])
        -> [UInt8]
    {
        var writer = ByteWriter(capacity: domain.count + 64 + ciphertext.count)
        writer.write(bytes: domain)
        writer.writeShortString(sender)
        writer.writeShortString(receiver)
        writer.write(bytes: header.jobID.bytes)
        writer.write(header.epoch)
        writer.write(header.deadline)
        writer.write(bytes: ciphertext)
        return writer.bytes
    }

    public static func bundleSignedBytes(
        from sender: String, to receiver: String, header: MessageHeader, table: [UInt8], ciphertextDigest: [UInt8]
    ) -> [UInt8] {
        precondition(ciphertextDigest.count == digestByteCount, "bundle signatures cover a 32-byte digest")
        var writer = ByteWriter(capacity: bundleDomain.count + 96 + table.count)
        writer.write(bytes: bundleDomain)
        writer.writeShortString(sender)
        writer.writeShortString(receiver)
        writer.write(bytes: header.jobID.bytes)
        writer.write(header.epoch)
        writer.write(header.deadline)
        writer.writeLengthPrefixed(table)
        writer.write(bytes: ciphertextDigest)
        return writer.bytes
    }
}
