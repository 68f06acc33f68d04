/// What a stage replica tells the gateway in `ready` and `heartbeat` messages.
///
/// Layout: version u8 · role (u16 length + UTF-8) · replica u16 · instance u64 (random per
/// process, so a restart is told apart) · capacity u32 (jobs it will hold at once) · epoch
/// count u8 · epochs u32 each (key epochs it can open).
public struct ReplicaAnnouncement: Sendable, Hashable {
    public static let version: UInt8 = 1
    public var role: String
    public var replica: UInt16
    public var instance: UInt64
    public var capacity: UInt32
    public var epochs: [UInt32]

    public init(role: String, replica: UInt16, instance: UInt64, capacity: UInt32, epochs: [UInt32]) {
        self.role = role
        self.replica = replica
        self.instance = instance
        self.capacity = capacity
        self.epochs = epochs
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(Self.version)
        writer.writeShortString(role)
        writer.write(replica)
        writer.write(instance)
        writer.write(capacity)
        writer.write(UInt8(min(epochs.count, 255)))
        for epoch in epochs.prefix(255) { writer.write(epoch) }
        return writer.bytes
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
        try reader.expectEnd()
    }
}
