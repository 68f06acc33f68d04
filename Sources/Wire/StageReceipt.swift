/// One stage's signed statement that it handled a job: which role and replica, under which key
/// epoch, with the keys of which logged key release, with which model shard, and what it took in
/// and gave out. A client asks for receipts in its sealed request; each stage appends its own to
/// the job's chain, which travels sealed from stage to stage and reaches the client inside its
/// sealed result, so the gateway and the network see nothing new.
///
/// Layout (little-endian, as every pipeline message): version u8 (1) · role (u16 length + UTF-8)
/// · replica u16 · epoch u32 · release index u64 · shard digest (u8 length: 0 or 32, then the
/// bytes) · input digest 32 · output digest 32 · time u64 (Unix ms) · signature 64.
///
/// The signature is Ed25519 by the role's signing key for `epoch` — the key the key broker
/// released, after attestation, in the key release logged at `releaseIndex` — over
/// `"sealpipe/receipt/v1"` · pipeline id (u16 length + UTF-8) · job id (16) · every field above
/// but the signature. The pipeline and job are signed but not carried: the chain is always read
/// in their context (a result, a receipt file).
///
/// The digests are BLAKE2b-256 keyed with the job's reply public key over the job's plaintext as
/// the stage received it and as it produced it (`ReceiptDigest`). The chain links hop to hop by
/// equal digests; the client, which knows the key and both ends, checks the first input and the
/// last output.
public struct StageReceipt: Sendable, Hashable {
    public static let version: UInt8 = 1
    public static let domain = Array("sealpipe/receipt/v1".utf8)
    public static let digestByteCount = 32
    public static let signatureByteCount = 64
    /// Longest role name a receipt carries (the topology's role names are far shorter).
    public static let maximumRoleBytes = 256

    public var role: String
    public var replica: UInt16
    public var epoch: UInt32
    /// Index in the key broker's log of the key release that gave this node the epoch's keys.
    public var releaseIndex: UInt64
    /// SHA-256 of the stage's model shard (its plaintext as sealed), empty for stages without one.
    public var shardDigest: [UInt8]
    public var inputDigest: [UInt8]
    public var outputDigest: [UInt8]
    /// When the stage finished the job (Unix milliseconds, the stage's clock).
    public var time: UInt64
    /// Empty until signed.
    public var signature: [UInt8]

    public init(
        role: String, replica: UInt16, epoch: UInt32, releaseIndex: UInt64, shardDigest: [UInt8],
        inputDigest: [UInt8], outputDigest: [UInt8], time: UInt64, signature: [UInt8] = []
    ) {
        precondition(role.utf8.count <= Self.maximumRoleBytes, "role names in receipts are at most 256 bytes")
        precondition(shardDigest.isEmpty || shardDigest.count == Self.digestByteCount, "a shard digest is 32 bytes")
        precondition(inputDigest.count == Self.digestByteCount && outputDigest.count == Self.digestByteCount)
        self.role = role
        self.replica = replica
        self.epoch = epoch
        self.releaseIndex = releaseIndex
        self.shardDigest = shardDigest
        self.inputDigest = inputDigest
        self.outputDigest = outputDigest
        self.time = time
        self.signature = signature
    }

    /// Bytes of an encoded receipt for `role` with a shard digest of `shardDigestCount` bytes.
    public static func encodedCount(roleBytes: Int, shardDigestCount: Int) -> Int {
        1 + 2 + roleBytes + 2 + 4 + 8 + 1 + shardDigestCount + 2 * digestByteCount + 8 + signatureByteCount
    }

    /// What the stage signs.
    public func signedBytes(pipelineID: String, jobID: JobID) -> [UInt8] {
        var writer = ByteWriter(capacity: Self.domain.count + 2 + pipelineID.utf8.count + JobID.byteCount + 160)
        writer.write(bytes: Self.domain)
        writer.writeShortString(pipelineID)
        writer.write(bytes: jobID.bytes)
        writeFields(into: &writer)
        return writer.bytes
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(
            capacity: Self.encodedCount(roleBytes: role.utf8.count, shardDigestCount: shardDigest.count))
        writeFields(into: &writer)
        writer.write(bytes: signature)
        return writer.bytes
    }

    private func writeFields(into writer: inout ByteWriter) {
        writer.write(Self.version)
        writer.writeShortString(role)
        writer.write(replica)
        writer.write(epoch)
        writer.write(releaseIndex)
        writer.write(UInt8(shardDigest.count))
        writer.write(bytes: shardDigest)
        writer.write(bytes: inputDigest)
        writer.write(bytes: outputDigest)
        writer.write(time)
    }

    /// Reads one receipt from `reader` (a chain holds several back to back).
    init<Bytes>(reading reader: inout ByteReader<Bytes>) throws(WireError)
    where Bytes: RandomAccessCollection, Bytes.Element == UInt8, Bytes.Index == Int {
        let version = try reader.readUInt8()
        guard version == Self.version else { throw .unsupportedVersion(what: "receipt", version: version) }
        let roleLength = Int(try reader.readUInt16())
        guard roleLength <= Self.maximumRoleBytes else {
            throw .invalidField(
                what: "receipt", reason: "a role of \(roleLength) bytes (at most \(Self.maximumRoleBytes))")
        }
        guard let role = String(validating: try reader.readBytes(roleLength), as: UTF8.self) else {
            throw .invalidField(what: "receipt", reason: "the role is not UTF-8")
        }
        let replica = try reader.readUInt16()
        let epoch = try reader.readUInt32()
        let releaseIndex = try reader.readUInt64()
        let shardCount = Int(try reader.readUInt8())
        guard shardCount == 0 || shardCount == Self.digestByteCount else {
            throw .invalidField(what: "receipt", reason: "a shard digest of \(shardCount) bytes (0 or 32)")
        }
        self.init(
            role: role, replica: replica, epoch: epoch, releaseIndex: releaseIndex,
            shardDigest: try reader.readBytes(shardCount), inputDigest: try reader.readBytes(Self.digestByteCount),
            outputDigest: try reader.readBytes(Self.digestByteCount), time: try reader.readUInt64(),
            signature: try reader.readBytes(Self.signatureByteCount))
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "receipt")
        try self.init(reading: &reader)
        try reader.expectEnd()
    }
}

/// The receipts of one job in pipeline order, front stage first: `u8 count` (0…`maximumCount`)
/// then each receipt. An empty chain (count 0) is what a job that asked for none carries.
public enum ReceiptChain {
    /// More stages than any topology has; bounds what a decoder reads.
    public static let maximumCount = 64

    public static func encode(_ receipts: [StageReceipt]) -> [UInt8] {
        precondition(receipts.count <= maximumCount, "a receipt chain holds at most \(maximumCount) receipts")
        var writer = ByteWriter(capacity: 1 + receipts.count * 200)
        writer.write(UInt8(receipts.count))
        for receipt in receipts { writer.write(bytes: receipt.encoded()) }
        return writer.bytes
    }

    /// `chain` (encoded) with `receipt` appended; throws when `chain` is full. Each stage adds
    /// one receipt to the bytes it was handed: the count goes up and the receipt goes at the end,
    /// without decoding and re-encoding the receipts before it (their bytes came sealed and
    /// signed from the upstream stage, and the client decodes and checks the whole chain).
    public static func appending(_ receipt: StageReceipt, to chain: [UInt8]) throws(WireError) -> [UInt8] {
        let count = chain.first.map(Int.init) ?? 0
        guard count < maximumCount else {
            throw .invalidField(what: "receipt chain", reason: "already holds \(count) receipts")
        }
        var appended = [UInt8(count + 1)]
        appended.reserveCapacity(chain.count + 200)
        appended += chain.dropFirst()
        appended += receipt.encoded()
        return appended
    }

    public static func decode(_ bytes: [UInt8]) throws(WireError) -> [StageReceipt] {
        var reader = ByteReader(bytes, context: "receipt chain")
        let count = Int(try reader.readUInt8())
        guard count <= maximumCount else {
            throw .invalidField(what: "receipt chain", reason: "\(count) receipts (at most \(maximumCount))")
        }
        var receipts: [StageReceipt] = []
        for _ in 0..<count { receipts.append(try StageReceipt(reading: &reader)) }
        try reader.expectEnd()
        return receipts
    }
}
