/// A source of named float tensors from which model weights are loaded.
///
/// A mapped safetensors file is one; a dictionary of tensors (for example decrypted from a
/// sealed weight shard) is another, so weight loading never depends on where bytes came from.
public protocol TensorProvider {
    /// Returns the named tensor as floats, throwing when it is absent or not a float tensor.
    func floatTensor(named name: String) throws(ModelError) -> FloatTensor
}

extension Dictionary: TensorProvider where Key == String, Value == FloatTensor {
    public func floatTensor(named name: String) throws(ModelError) -> FloatTensor {
        guard let tensor = self[name] else { throw .missingTensor(name) }
        return tensor
    }
}
