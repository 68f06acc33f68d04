import Sodium

/// RFC 9162 §2.1.1 hashing: SHA-256 with domain separation between leaves (0x00) and
/// interior nodes (0x01), so a leaf can never be passed off as a node or the reverse.
public enum MerkleHash {
    /// Bytes in every hash of the tree.
    public static let byteCount = 32

    /// The root of the empty tree: SHA-256 of the empty string.
    public static let emptyRoot: [UInt8] = SHA256.hash([])

    /// `SHA-256(0x00 ‖ data)`.
    public static func leaf(_ data: [UInt8]) -> [UInt8] {
        SHA256.hash([0x00] + data)
    }

    /// `SHA-256(0x01 ‖ left ‖ right)`.
    public static func node(_ left: [UInt8], _ right: [UInt8]) -> [UInt8] {
        var input = [UInt8]()
        input.reserveCapacity(1 + left.count + right.count)
        input.append(0x01)
        input += left
        input += right
        return SHA256.hash(input)
    }
}
