public import Inference
public import Trust

/// Lets a worker build its model straight from its decrypted shard: the plaintext stays in
/// secure memory until each tensor is copied into the engine's own buffers.
extension DecryptedWeights: TensorProvider {
    public func floatTensor(named name: String) throws(ModelError) -> FloatTensor {
        guard let info = tensors[name] else { throw .missingTensor(name) }
        guard info.dtype == "F32", info.byteCount == info.shape.reduce(1, *) * 4 else {
            throw .unsupported("tensor \(name) is \(info.dtype) with \(info.byteCount) bytes; shards carry F32")
        }
        do {
            let values = try withBytes(of: name) { raw in
                [Float](unsafeUninitializedCapacity: info.byteCount / 4) { buffer, initialized in
                    raw.copyBytes(to: UnsafeMutableRawBufferPointer(buffer))
                    initialized = info.byteCount / 4
                }
            }
            return FloatTensor(shape: info.shape, values: values)
        } catch {
            throw .missingTensor(name)
        }
    }
}
