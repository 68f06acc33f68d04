public import Sodium

/// A tree head of the transparency log signed by the broker's Ed25519 identity key.
///
/// Signed bytes (`signedBytes`): ASCII `sealpipe-tree-head-v1` (21 bytes) ‖ tree size u64
/// big-endian ‖ timestamp u64 big-endian (ms since the Unix epoch) ‖ root hash (32 bytes).
public struct SignedTreeHead: Sendable, Hashable, Codable {
    public var treeSize: UInt64
    public var rootHash: [UInt8]
    /// Milliseconds since the Unix epoch.
    public var timestamp: UInt64
    /// 64-byte detached Ed25519 signature over `signedBytes`.
    public var signature: [UInt8]

    public init(treeSize: UInt64, rootHash: [UInt8], timestamp: UInt64, signature: [UInt8]) {
        self.treeSize = treeSize
        self.rootHash = rootHash
        self.timestamp = timestamp
        self.signature = signature
    }

    /// Signs a tree head with the broker's identity key.
    public static func sign(treeSize: UInt64, rootHash: [UInt8], timestamp: UInt64, with key: SigningKeyPair)
        -> SignedTreeHead
    {
        let message = signedBytes(treeSize: treeSize, rootHash: rootHash, timestamp: timestamp)
        return SignedTreeHead(
            treeSize: treeSize, rootHash: rootHash, timestamp: timestamp, signature: key.signature(for: message))
    }

    /// The exact bytes the signature covers.
    public static func signedBytes(treeSize: UInt64, rootHash: [UInt8], timestamp: UInt64) -> [UInt8] {
        var w = CanonicalWriter()
        w.fixed(Array("sealpipe-tree-head-v1".utf8))
        w.u64(treeSize)
        w.u64(timestamp)
        w.fixed(rootHash)
        return w.bytes
    }

    /// The bytes this head's signature must cover.
    public var signedBytes: [UInt8] { Self.signedBytes(treeSize: treeSize, rootHash: rootHash, timestamp: timestamp) }

    /// True only for a 32-byte root and a valid signature by `key`.
    public func hasValidSignature(by key: SigningPublicKey) -> Bool {
        rootHash.count == MerkleHash.byteCount && key.isValidSignature(signature, for: signedBytes)
    }
}
