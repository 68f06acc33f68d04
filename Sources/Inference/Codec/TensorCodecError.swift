/// Why `TensorCodec.decode` refused its input.
public enum TensorCodecError: Error, Equatable, Sendable {
    /// Fewer bytes than the fixed header or than the dimensions announce.
    case truncated(needed: Int, actual: Int)
    /// More bytes than the dimensions announce.
    case trailingBytes(expected: Int, actual: Int)
    /// The first four bytes are not "SPTN".
    case badMagic
    /// A format version this decoder does not know.
    case unsupportedVersion(UInt8)
    /// A payload kind this decoder does not know.
    case unknownKind(UInt8)
    /// The reserved header bytes are not zero.
    case reservedBitsSet
    /// A dimension is zero where it must not be, or above the decoder's limit.
    case dimensionOutOfRange(what: String, value: UInt32, limit: UInt32)
    /// A token id is negative.
    case negativeTokenID(sequence: Int, position: Int)
    /// A float is NaN or infinite; no stage produces those, so they mean corruption or an attack.
    case nonFiniteValue(index: Int)
}
