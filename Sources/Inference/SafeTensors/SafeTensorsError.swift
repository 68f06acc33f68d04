/// Why a safetensors file or buffer was refused.
public enum SafeTensorsError: Error, Equatable, Sendable {
    /// The file could not be opened or mapped; `reason` carries the system's message.
    case couldNotRead(path: String, reason: String)
    /// Fewer bytes than the 8-byte header length, or than the header length announces.
    case truncated(expected: Int, actual: Int)
    /// The announced header length exceeds the limit this reader accepts.
    case headerTooLarge(length: UInt64, limit: Int)
    /// The header is not a JSON object of the expected shape; `reason` names the place.
    case malformedHeader(reason: String)
    /// A tensor names a dtype this reader does not know.
    case unknownDType(tensor: String, dtype: String)
    /// A tensor's byte range does not fit in the data section.
    case offsetsOutOfBounds(tensor: String, begin: Int, end: Int, dataSize: Int)
    /// A tensor's byte count differs from dtype size × element count.
    case sizeMismatch(tensor: String, expected: Int, actual: Int)
    /// Two tensors claim overlapping bytes.
    case overlap(first: String, second: String)
}
