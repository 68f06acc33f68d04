/// Why a model could not be loaded or run.
public enum ModelError: Error, Equatable, Sendable {
    /// A file of the model folder could not be read or parsed; `reason` says how.
    case badFile(path: String, reason: String)
    /// The configuration asks for something this encoder does not implement.
    case unsupported(String)
    /// A weight tensor the model needs is absent.
    case missingTensor(String)
    /// A weight tensor has a different shape than the configuration implies.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// A weight tensor is not stored as 32-bit floats.
    case unsupportedDType(tensor: String, dtype: String)
    /// A layer range lies outside the model or outside the layers this instance loaded.
    case layersNotLoaded(requested: Range<Int>, loaded: Range<Int>)
    /// Embeddings were asked of an instance loaded without them.
    case embeddingsNotLoaded
    /// A token id is negative or not below the vocabulary size.
    case tokenOutOfRange(sequence: Int, position: Int, id: Int32, vocabularySize: Int)
    /// A sequence is empty or longer than the position table.
    case badSequenceLength(sequence: Int, length: Int, maximum: Int)
    /// Hidden states of a different width than the model's.
    case hiddenSizeMismatch(expected: Int, actual: Int)
}
