public import Foundation

/// A validated safetensors container: an 8-byte little-endian header length, a JSON header
/// describing each tensor, then the raw tensor bytes.
///
/// Opening a file maps it read-only, so only the tensors a caller copies out are paged in
/// (a shard reads only its own layers).
public final class SafeTensors: Sendable {
    /// Largest header accepted; the format's own reference implementation uses the same cap.
    public static let maximumHeaderLength = 100 * 1024 * 1024

    /// Tensors by name.
    public let tensors: [String: TensorInfo]
    /// The free-form `__metadata__` string map (empty when absent).
    public let metadata: [String: String]

    private let storage: Storage
    private let dataStart: Int

    private enum Storage: Sendable {
        case mapped(MappedFile)
        case owned([UInt8])
    }

    /// Maps and validates the file at `url`.
    public convenience init(contentsOf url: URL) throws(SafeTensorsError) {
        let file = try MappedFile(path: url.path)
        try self.init(storage: .mapped(file))
    }

    /// Validates an in-memory container (for example one just decrypted); the bytes are kept.
    public convenience init(bytes: [UInt8]) throws(SafeTensorsError) {
        try self.init(storage: .owned(bytes))
    }

    private init(storage: Storage) throws(SafeTensorsError) {
        self.storage = storage
        let parsed = try Self.withBytes(of: storage) { (buffer) throws(SafeTensorsError) in
            try SafeTensors.parseHeader(buffer)
        }
        tensors = parsed.tensors
        metadata = parsed.metadata
        dataStart = parsed.dataStart
    }

    /// Names of all tensors, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// Copies the raw bytes of the named tensor.
    public func data(of name: String) throws(ModelError) -> [UInt8] {
        guard let info = tensors[name] else { throw .missingTensor(name) }
        return Self.withBytes(of: storage) { buffer in
            Array(buffer[(dataStart + info.dataRange.lowerBound)..<(dataStart + info.dataRange.upperBound)])
        }
    }

    private static func withBytes<R>(
        of storage: Storage, _ body: (UnsafeRawBufferPointer) throws(SafeTensorsError) -> R
    ) throws(SafeTensorsError) -> R {
        switch storage {
        case .mapped(let file):
            return try body(file.bytes)
        case .owned(let bytes):
            // Typed throws do not pass through Array.withUnsafeBytes, so carry the error out.
            let result: Result<R, SafeTensorsError> = bytes.withUnsafeBytes { buffer in
                do throws(SafeTensorsError) { return .success(try body(buffer)) } catch { return .failure(error) }
            }
            return try result.get()
        }
    }

    private static func withBytes<R>(of storage: Storage, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch storage {
        case .mapped(let file): body(file.bytes)
        case .owned(let bytes): bytes.withUnsafeBytes(body)
        }
    }
}

extension SafeTensors: TensorProvider {
    /// Copies the named F32 tensor out (assumes a little-endian host, as the format's data is little-endian).
    public func floatTensor(named name: String) throws(ModelError) -> FloatTensor {
        guard let info = tensors[name] else { throw .missingTensor(name) }
        guard info.dtype == .float32 else { throw .unsupportedDType(tensor: name, dtype: info.dtype.rawValue) }
        let start = dataStart + info.dataRange.lowerBound
        let values = Self.withBytes(of: storage) { buffer in
            [Float](unsafeUninitializedCapacity: info.elementCount) { out, initialized in
                // memcpy rather than a typed load: the data section need not be 4-byte aligned.
                UnsafeMutableRawBufferPointer(out).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: buffer[start..<(start + info.dataRange.count)]))
                initialized = info.elementCount
            }
        }
        return FloatTensor(shape: info.shape, values: values)
    }
}
