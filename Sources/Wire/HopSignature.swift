/// The exact bytes a stage signs (Ed25519, its role's signing key) for what it sends, and that
/// the receiver verifies with the public key of the role the topology routes from.
///
/// A result (last stage → client), `"sealpipe/hop/v1"` · sender role (u16 length + UTF-8) ·
/// receiver role `client` (same) · job id · epoch u32 · deadline u64 · ciphertext.
///
/// A bundle (stage → next stage), `"sealpipe/bundle/v2"` · sender role · receiver role ·
/// bundle id · epoch u32 · deadline u64 · message type u8 (`workBundle`) · receiving hop u16 (the
/// receiver's index in the pipeline) · job table (as sent, u32 length first) · the sealed box's
/// first 48 bytes: its ephemeral public key and its Poly1305 tag. Every header field the
/// receiver acts on is covered: the gateway may relay a bundle, never relabel it (a bundle
/// signed for hop 2 cannot be replayed as hop 3, or as another type).
///
/// Why the key and tag stand for the whole ciphertext: the receiver opens the box only if the
/// tag verifies over the ciphertext under the key shared by that ephemeral key and its own.
/// Anyone who can change the ciphertext without breaking the tag must hold that shared key,
/// and only the sender (who signs anyway) and the receiver (who checks) do. So a signature
/// over key and tag, followed by a successful open, authenticates the ciphertext as fully as a
/// signature over all of it — without hashing a large bundle: Ed25519 would hash it twice to
/// sign and once to verify, and even one BLAKE2b pass over it costs as much as sealing it.
///
/// Binding both roles and the hop stops the gateway (or anyone on the wire) from redirecting a
/// hop to another stage; binding the deadline bounds replays (receivers remember each bundle
/// until it); binding the table stops jobs being added, dropped or reordered.
public enum HopSignature {
    public static let domain = Array("sealpipe/hop/v1".utf8)
    public static let bundleDomain = Array("sealpipe/bundle/v2".utf8)
    public static let clientRole = "client"
    /// Bytes of a sealed box that a bundle signature covers: ephemeral public key (32) and tag (16).
    public static let boxCommitmentByteCount = 48

    public static func signedBytes(from sender: String, to receiver: String, header: MessageHeader, ciphertext: [UInt8])
        -> [UInt8]
    {
        var writer = prefix(domain, from: sender, to: receiver, header: header, extra: ciphertext.count)
        writer.write(bytes: ciphertext)
        return writer.bytes
    }

    /// `nil` when `sealedBox` is too short to be a sealed box.
    /// `receivingHop` is the receiver's index in the pipeline (the header's `hop` on arrival);
    /// the type signed is always `workBundle`, the type a bundle arrives as.
    public static func bundleSignedBytes(
        from sender: String, to receiver: String, receivingHop: UInt16, header: MessageHeader, table: [UInt8],
        sealedBox: [UInt8]
    ) -> [UInt8]? {
        guard sealedBox.count >= boxCommitmentByteCount else { return nil }
        var writer = prefix(
            bundleDomain, from: sender, to: receiver, header: header, extra: 7 + table.count + boxCommitmentByteCount)
        writer.write(MessageType.workBundle.rawValue)
        writer.write(receivingHop)
        writer.writeLengthPrefixed(table)
        writer.write(bytes: sealedBox.prefix(boxCommitmentByteCount))
        return writer.bytes
    }

    /// What both kinds of signature start with: domain, both roles, the id, epoch and deadline.
    private static func prefix(
        _ domain: [UInt8], from sender: String, to receiver: String, header: MessageHeader, extra: Int
    )
        -> ByteWriter
    {
        var writer = ByteWriter(capacity: domain.count + 64 + extra)
        writer.write(bytes: domain)
        writer.writeShortString(sender)
        writer.writeShortString(receiver)
        writer.write(bytes: header.jobID.bytes)
        writer.write(header.epoch)
        writer.write(header.deadline)
        return writer
    }
}
