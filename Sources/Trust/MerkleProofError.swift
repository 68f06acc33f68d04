/// Why a Merkle proof was refused or could not be made.
public enum MerkleProofError: Error, Equatable, Sendable {
    case indexOutOfRange(index: Int, treeSize: Int)
    case sizeOutOfRange(size: Int, treeSize: Int)
    case invalidSizes(size1: Int, size2: Int)
    case wrongHashLength(what: String, length: Int)
    case wrongProofLength(expected: Int, actual: Int)
    case rootMismatch
}
