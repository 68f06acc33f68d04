/// Errors from the libsodium layer.
///
/// `couldNotOpen` is deliberately uninformative: a failed decryption must not tell an
/// attacker whether the key, the tag or the length was wrong.
public enum SodiumError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A sealed box or AEAD ciphertext did not open.
    case couldNotOpen
    /// An input had the wrong length.
    case invalidLength(what: String, expected: Int, actual: Int)
    /// A Diffie-Hellman result was all zeros: the peer's key is a low-order point.
    case lowOrderPoint
    /// A libsodium call failed for another reason.
    case failed(String)

    public var description: String {
        switch self {
        case .couldNotOpen: "could not open"
        case .invalidLength(let what, let expected, let actual): "\(what): expected \(expected) bytes, got \(actual)"
        case .lowOrderPoint: "the public key is a low-order point"
        case .failed(let call): "\(call) failed"
        }
    }
}

func requireLength(_ bytes: some Collection, _ expected: Int, _ what: String) throws(SodiumError) {
    guard bytes.count == expected else {
        throw SodiumError.invalidLength(what: what, expected: expected, actual: bytes.count)
    }
}
