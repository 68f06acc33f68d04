import Sodium

/// A shard's opened tensors, held in secure memory; read a tensor in place or copy it into
/// a buffer the worker owns.
public struct DecryptedWeights: Sendable {
    /// Where one tensor lies in the decrypted data.
    public struct TensorInfo: Sendable, Hashable {
        public var dtype: String
        public var shape: [Int]
        public var byteCount: Int
        let offset: Int
    }

    public let role: String
    public let tensors: [String: TensorInfo]
    private let plaintext: SecureBytes
    private let dataStart: Int

    init(role: String, plaintext: SecureBytes) throws(SealedWeightsError) {
        self.role = role
        self.plaintext = plaintext
        do {
            let parsed = try plaintext.withUnsafeBytes { buffer in try Self.parseIndex(buffer) }
            tensors = parsed.tensors
            dataStart = parsed.dataStart
        } catch {
            throw .malformed("tensor index: \(error)")
        }
    }

    /// SHA-256 of the whole opened plaintext: the shard's content hash
    /// (`WeightSealer.contentDigest(of:)` of the tensors it was sealed from).
    public var contentDigest: [UInt8] {
        var hasher = SHA256.Hasher()
        plaintext.withUnsafeBytes { hasher.update(raw: $0) }
        return hasher.finalize()
    }

    private static func parseIndex(
        _ buffer: UnsafeRawBufferPointer
    ) throws(CanonicalDecodingError) -> (tensors: [String: TensorInfo], dataStart: Int) {
        var r = SecureCanonicalReader(buffer)
        let count = try r.u32("tensor count")
        var tensors: [String: TensorInfo] = [:]
        for _ in 0..<count {
            let name = try r.string("tensor name")
            let dtype = try r.string("dtype")
            let rank = try r.u32("rank")
            guard rank <= 16 else { throw .invalidValue(what: "rank") }
            var shape: [Int] = []
            for _ in 0..<rank { shape.append(Int(clamping: try r.u64("shape"))) }
            let offset = try r.u64("offset")
            let length = try r.u64("length")
            tensors[name] = TensorInfo(
                dtype: dtype, shape: shape, byteCount: Int(clamping: length), offset: Int(clamping: offset))
        }
        let start = r.offset
        for info in tensors.values
        where info.offset > buffer.count - start || info.byteCount > buffer.count - start - info.offset {
            throw .invalidValue(what: "tensor range")
        }
        return (tensors, start)
    }

    /// Calls `body` with the tensor's bytes in secure memory (valid only inside the call).
    public func withBytes<R>(of name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard let info = tensors[name] else { throw SealedWeightsError.unknownTensor(name) }
        return try plaintext.withUnsafeBytes { buffer in
            try body(
                UnsafeRawBufferPointer(
                    rebasing: buffer[(dataStart + info.offset)..<(dataStart + info.offset + info.byteCount)]))
        }
    }

    /// Copies a tensor's bytes into an array the caller owns (for the inference engine's own buffers).
    public func copyBytes(of name: String) throws(SealedWeightsError) -> [UInt8] {
        guard let info = tensors[name] else { throw .unknownTensor(name) }
        return plaintext.withUnsafeBytes { buffer in
            Array(buffer[(dataStart + info.offset)..<(dataStart + info.offset + info.byteCount)])
        }
    }
}
