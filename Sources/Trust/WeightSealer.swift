public import Sodium

/// Encrypts a worker shard's tensors under the shard's own 32-byte key, and opens them again.
///
/// File: u32 header length ‖ header ‖ chunks. The header (magic `SPWEIGHT`, version, role,
/// shard, chunk size, plaintext length, chunk count, 16-byte random salt) is public; the
/// tensor index and data are one plaintext stream cut into chunks, each sealed with
/// XChaCha20-Poly1305, nonce = salt ‖ u64 chunk index, and associated data =
/// SHA-256(header) ‖ role ‖ u64 chunk index ‖ last-chunk flag. So a chunk cannot be
/// reordered, dropped, appended, or moved to another file or shard without failing to open.
public enum WeightSealer {
    public static let magic = Array("SPWEIGHT".utf8)
    public static let formatVersion: UInt8 = 1
    public static let defaultChunkSize = 1 << 20

    /// Seals `tensors` for `role` (shard index `shard`) under `key` (32 bytes).
    public static func seal(
        shard: Int, role: String, tensors: [String: PlainTensor], key: SecureBytes, chunkSize: Int = defaultChunkSize
    ) throws(SealedWeightsError) -> [UInt8] {
        guard key.count == XChaCha20Poly1305.keyByteCount else { throw .wrongKeyLength(key.count) }
        guard chunkSize > 0, chunkSize <= 1 << 30 else { throw .malformed("chunk size \(chunkSize)") }
        let stream = plaintextStream(tensors)
        let chunkCount = max(1, (stream.count + chunkSize - 1) / chunkSize)
        let header = Header(
            role: role, shard: UInt64(shard), chunkSize: UInt32(chunkSize), plaintextLength: UInt64(stream.count),
            chunkCount: UInt64(chunkCount), salt: SecureRandom.bytes(16))
        let headerBytes = header.encoded
        let headerDigest = SHA256.hash(headerBytes)

        var file = CanonicalWriter()
        file.data(headerBytes)
        var output = file.bytes
        output.reserveCapacity(output.count + stream.count + chunkCount * XChaCha20Poly1305.tagByteCount)
        for chunk in 0..<chunkCount {
            let start = chunk * chunkSize
            let end = min(stream.count, start + chunkSize)
            let last = chunk == chunkCount - 1
            output += XChaCha20Poly1305.seal(
                Array(stream[start..<end]), key: key, nonce: header.nonce(chunk: UInt64(chunk)),
                associatedData: associatedData(headerDigest: headerDigest, role: role, chunk: UInt64(chunk), last: last)
            )
        }
        return output
    }

    /// The plaintext a shard file seals: the tensor index (u32 count; per tensor, by name: name,
    /// dtype, u32 rank, u64 dimensions, u64 offset, u64 length) then every tensor's bytes in the
    /// same order. One byte form for given tensors, so its SHA-256 names the shard's content.
    static func plaintextStream(_ tensors: [String: PlainTensor]) -> [UInt8] {
        var index = CanonicalWriter()
        var offset: UInt64 = 0
        let names = tensors.keys.sorted()
        index.u32(UInt32(names.count))
        for name in names {
            let tensor = tensors[name]!
            index.string(name)
            index.string(tensor.dtype)
            index.u32(UInt32(tensor.shape.count))
            for dimension in tensor.shape { index.u64(UInt64(dimension)) }
            index.u64(offset)
            index.u64(UInt64(tensor.bytes.count))
            offset += UInt64(tensor.bytes.count)
        }
        var stream = index.bytes
        stream.reserveCapacity(stream.count + Int(offset))
        for name in names { stream += tensors[name]!.bytes }
        return stream
    }

    /// SHA-256 of the shard's plaintext (`plaintextStream`): the shard's content hash, which the
    /// policy lists and an opened shard must match (`DecryptedWeights.contentDigest`), whatever
    /// key and salt sealed it.
    public static func contentDigest(of tensors: [String: PlainTensor]) -> [UInt8] {
        SHA256.hash(plaintextStream(tensors))
    }

    /// Opens a sealed shard file for `role`; refuses another shard's file, a wrong key, and
    /// any reordered, truncated, extended or altered chunk. Plaintext stays in secure memory.
    public static func open(_ file: [UInt8], role: String, key: SecureBytes) throws(SealedWeightsError)
        -> DecryptedWeights
    {
        guard key.count == XChaCha20Poly1305.keyByteCount else { throw .wrongKeyLength(key.count) }
        var reader = CanonicalReader(file)
        let headerBytes: [UInt8]
        let header: Header
        do {
            headerBytes = try reader.data("header", limit: 1 << 16)
            header = try Header(decoding: headerBytes)
        } catch {
            throw .malformed("header: \(error)")
        }
        guard header.role == role else { throw .wrongShard(expected: role, found: header.role) }
        let chunkSize = Int(header.chunkSize)
        let plaintextLength = Int(header.plaintextLength)
        let chunkCount = Int(header.chunkCount)
        guard chunkSize > 0, chunkCount == max(1, (plaintextLength + chunkSize - 1) / chunkSize) else {
            throw .malformed(
                "chunk count \(chunkCount) does not fit \(plaintextLength) bytes in chunks of \(chunkSize)")
        }
        let bodyLength = plaintextLength + chunkCount * XChaCha20Poly1305.tagByteCount
        guard reader.remaining == bodyLength else {
            throw .truncatedOrExtended(expected: bodyLength, actual: reader.remaining)
        }
        let bodyStart = reader.offset
        let headerDigest = SHA256.hash(headerBytes)
        let plaintext = SecureBytes(count: plaintextLength)
        var position = bodyStart
        for chunk in 0..<chunkCount {
            let plainCount = min(chunkSize, plaintextLength - chunk * chunkSize)
            let sealedCount = plainCount + XChaCha20Poly1305.tagByteCount
            let opened: SecureBytes
            do {
                opened = try XChaCha20Poly1305.open(
                    Array(file[position..<position + sealedCount]), key: key, nonce: header.nonce(chunk: UInt64(chunk)),
                    associatedData: associatedData(
                        headerDigest: headerDigest, role: role, chunk: UInt64(chunk), last: chunk == chunkCount - 1))
            } catch {
                throw .couldNotOpen(chunk: chunk)
            }
            plaintext.withUnsafeMutableBytes { dst in
                opened.withUnsafeBytes { src in
                    if src.count > 0 {
                        dst.baseAddress!.advanced(by: chunk * chunkSize).copyMemory(
                            from: src.baseAddress!, byteCount: src.count)
                    }
                }
            }
            position += sealedCount
        }
        return try DecryptedWeights(role: role, plaintext: plaintext)
    }

    /// A public identifier of a weight key (for logs and registration): the 16-byte AEAD tag of
    /// an empty message under the key with a fixed nonce. It names the key without the key
    /// ever leaving secure memory, and reveals nothing about it.
    public static func keyID(of key: SecureBytes) -> [UInt8] {
        let context = Array("sealpipe-weight-key-id-v1".utf8)
        return XChaCha20Poly1305.seal([], key: key, nonce: Array(context.prefix(24)), associatedData: context)
    }

    static func associatedData(headerDigest: [UInt8], role: String, chunk: UInt64, last: Bool) -> [UInt8] {
        var w = CanonicalWriter()
        w.fixed(headerDigest)
        w.string(role)
        w.u64(chunk)
        w.bool(last)
        return w.bytes
    }

    struct Header {
        var role: String
        var shard: UInt64
        var chunkSize: UInt32
        var plaintextLength: UInt64
        var chunkCount: UInt64
        var salt: [UInt8]

        init(role: String, shard: UInt64, chunkSize: UInt32, plaintextLength: UInt64, chunkCount: UInt64, salt: [UInt8])
        {
            self.role = role
            self.shard = shard
            self.chunkSize = chunkSize
            self.plaintextLength = plaintextLength
            self.chunkCount = chunkCount
            self.salt = salt
        }

        init(decoding bytes: [UInt8]) throws(CanonicalDecodingError) {
            var r = CanonicalReader(bytes)
            guard try r.fixed(8, "magic") == WeightSealer.magic else { throw .invalidValue(what: "magic") }
            let version = try r.u8("version")
            guard version == WeightSealer.formatVersion else { throw .unsupportedVersion(version) }
            role = try r.string("role")
            shard = try r.u64("shard")
            chunkSize = try r.u32("chunkSize")
            plaintextLength = try r.u64("plaintextLength")
            chunkCount = try r.u64("chunkCount")
            salt = try r.fixed(16, "salt")
            try r.finish()
        }

        var encoded: [UInt8] {
            var w = CanonicalWriter()
            w.fixed(WeightSealer.magic)
            w.u8(WeightSealer.formatVersion)
            w.string(role)
            w.u64(shard)
            w.u32(chunkSize)
            w.u64(plaintextLength)
            w.u64(chunkCount)
            w.fixed(salt)
            return w.bytes
        }

        func nonce(chunk: UInt64) -> [UInt8] {
            var w = CanonicalWriter()
            w.fixed(salt)
            w.u64(chunk)
            return w.bytes
        }
    }
}

/// A tensor to seal: its dtype name (e.g. `F32`), shape and raw little-endian bytes.
public struct PlainTensor: Sendable, Hashable {
    public var dtype: String
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: String, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }
}

/// Why a sealed weight file was refused.
public enum SealedWeightsError: Error, Equatable, Sendable {
    case wrongKeyLength(Int)
    case malformed(String)
    case wrongShard(expected: String, found: String)
    case truncatedOrExtended(expected: Int, actual: Int)
    /// The chunk did not authenticate: wrong key, altered, reordered or moved.
    case couldNotOpen(chunk: Int)
    case unknownTensor(String)
}
