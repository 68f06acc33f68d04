/// The exact bytes a stage signs (Ed25519, its role's signing key) for each hop it sends, and
/// that the receiver verifies with the public key of the role the topology routes from.
///
/// `"sealpipe/hop/v1"` · sender role (u16 length + UTF-8) · receiver role (same) · job id ·
/// epoch u32 · deadline u64 · ciphertext. Binding both roles stops the gateway (or anyone on
/// the wire) from redirecting a hop to another stage; binding the deadline bounds replays.
/// A result is signed the same way with receiver role `client`.
public enum HopSignature {
    public static let domain = Array("sealpipe/hop/v1".utf8)
    public static let clientRole = "client"

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
}
