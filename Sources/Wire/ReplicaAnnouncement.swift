/// What a stage replica tells the gateway in `ready` and `heartbeat` messages, and its proof
/// that it is an attested replica of the role it names.
///
/// Layout: version u8 · role (u16 length + UTF-8) · replica u16 · instance u64 (random per
/// process, so a restart is told apart) · capacity u32 (jobs it will hold at once) · epoch
/// count u8 · epochs u32 each (key epochs it can open) · timestamp u64 (Unix milliseconds) ·
/// certificate (u32 length + `RoleCertificate`) · signature (64 bytes).
///
/// The signature is Ed25519 by the role's signing key named in the certificate, over
/// `signedBytes(routingID:)`: a domain, the ZeroMQ routing identity the replica set on its
/// socket, and every field above. The gateway sees that identity on each message, so an
/// announcement captured on the wire and replayed from another connection fails to verify.
public struct ReplicaAnnouncement: Sendable, Hashable {
    public static let version: UInt8 = 2
    public static let domain = Array("sealpipe/announcement/v2".utf8)
    public static let signatureByteCount = 64
    /// The longest routing identity libzmq allows.
    public static let maxRoutingIDByteCount = 255

    public var role: String
    public var replica: UInt16
    public var instance: UInt64
    public var capacity: UInt32
    public var epochs: [UInt32]
    /// When the replica made this announcement (Unix milliseconds): the gateway refuses stale ones.
    public var timestamp: UInt64
    /// The broker's certificate for the role's signing key (`RoleCertificate.encoded()`).
    public var certificate: [UInt8]
    /// Ed25519 over `signedBytes(routingID:)` by the certified key (empty until signed).
    public var signature: [UInt8]

    public init(
        role: String, replica: UInt16, instance: UInt64, capacity: UInt32, epochs: [UInt32], timestamp: UInt64,
        certificate: [UInt8], signature: [UInt8] = []
    ) {
        self.role = role
        self.replica = replica
        self.instance = instance
        self.capacity = capacity
        self.epochs = epochs
        self.timestamp = timestamp
        self.certificate = certificate
        self.signature = signature
    }

    /// What the role's key signs: the domain, the sender's routing identity, and every field
    /// but the signature.
    public func signedBytes(routingID: [UInt8]) -> [UInt8] {
        var writer = ByteWriter(capacity: Self.domain.count + routingID.count + 64 + certificate.count)
        writer.write(bytes: Self.domain)
        writer.writeLengthPrefixed(routingID)
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
        writer.write(Self.version)
        writer.writeShortString(role)
        writer.write(replica)
        writer.write(instance)
        writer.write(capacity)
        writer.write(UInt8(min(epochs.count, 255)))
        for epoch in epochs.prefix(255) { writer.write(epoch) }
        writer.write(timestamp)
        writer.writeLengthPrefixed(certificate)
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "replica announcement")
        let version = try reader.readUInt8()
        guard version == Self.version else { throw .unsupportedVersion(what: "replica announcement", version: version) }
        role = try reader.readShortString()
        guard !role.isEmpty else { throw .invalidField(what: "replica announcement", reason: "empty role") }
        replica = try reader.readUInt16()
        instance = try reader.readUInt64()
        capacity = try reader.readUInt32()
        let count = Int(try reader.readUInt8())
        var epochs: [UInt32] = []
        for _ in 0..<count { epochs.append(try reader.readUInt32()) }
        self.epochs = epochs
        timestamp = try reader.readUInt64()
        certificate = try reader.readLengthPrefixed(limit: 4096)
        signature = try reader.readBytes(Self.signatureByteCount)
        try reader.expectEnd()
    }
}
