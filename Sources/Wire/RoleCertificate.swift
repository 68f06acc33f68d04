/// The key broker's statement that a role's signing key belongs to an attested replica of that
/// role for one key epoch. The broker signs it with its identity key when it releases a bundle
/// (only after attestation); a replica shows it to the gateway in every announcement, and the
/// gateway — which pins the broker's identity and holds no other key — checks it.
///
/// Signed bytes: `"sealpipe/role-certificate/v1"` · pipeline id (u16 length + UTF-8) · role
/// (same) · epoch u32 · the role's Ed25519 signing public key (32 bytes) · not-after u64 (Unix
/// milliseconds: the epoch's end plus its grace). Encoded: the signed bytes without the domain,
/// then the broker's 64-byte Ed25519 signature.
public struct RoleCertificate: Sendable, Hashable {
    public static let domain = Array("sealpipe/role-certificate/v1".utf8)
    public static let keyByteCount = 32
    public static let signatureByteCount = 64

    public var pipelineID: String
    public var role: String
    public var epoch: UInt32
    /// The role's Ed25519 signing public key for `epoch`.
    public var signingKey: [UInt8]
    /// Unix milliseconds after which the certificate proves nothing.
    public var notAfter: UInt64
    /// The broker's Ed25519 signature over `signedBytes` (empty until signed).
    public var signature: [UInt8]

    public init(
        pipelineID: String, role: String, epoch: UInt32, signingKey: [UInt8], notAfter: UInt64, signature: [UInt8] = []
    ) {
        self.pipelineID = pipelineID
        self.role = role
        self.epoch = epoch
        self.signingKey = signingKey
        self.notAfter = notAfter
        self.signature = signature
    }

    /// What the broker signs: the domain, then every field but the signature.
    public var signedBytes: [UInt8] {
        var writer = ByteWriter(capacity: Self.domain.count + 64 + pipelineID.utf8.count + role.utf8.count)
        writer.write(bytes: Self.domain)
        writeFields(into: &writer)
        return writer.bytes
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writeFields(into: &writer)
        writer.write(bytes: signature)
        return writer.bytes
    }

    private func writeFields(into writer: inout ByteWriter) {
        writer.writeShortString(pipelineID)
        writer.writeShortString(role)
        writer.write(epoch)
        writer.write(bytes: signingKey)
        writer.write(notAfter)
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "role certificate")
        pipelineID = try reader.readShortString()
        role = try reader.readShortString()
        guard !role.isEmpty else { throw .invalidField(what: "role certificate", reason: "empty role") }
        epoch = try reader.readUInt32()
        signingKey = try reader.readBytes(Self.keyByteCount)
        notAfter = try reader.readUInt64()
        signature = try reader.readBytes(Self.signatureByteCount)
        try reader.expectEnd()
    }
}
