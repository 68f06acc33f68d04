public import Sodium

/// A transparency log as published: the broker's identity public key, every entry's
/// canonical bytes in order, and every signed tree head.
public struct LedgerExport: Sendable, Hashable, Codable {
    public var identityKey: SigningPublicKey
    public var entries: [[UInt8]]
    public var treeHeads: [SignedTreeHead]

    public init(identityKey: SigningPublicKey, entries: [[UInt8]], treeHeads: [SignedTreeHead]) {
        self.identityKey = identityKey
        self.entries = entries
        self.treeHeads = treeHeads
    }
}
