public import Sodium

/// The broker's signature on a key release, checked by the node against the broker identity it
/// pins. The sealed bundle alone proves nothing about who made it: anyone can seal to a node's
/// ephemeral public key. The signature binds the bundle to this broker and to this request —
/// the nonce the node asked for and the ephemeral key it generated — so a bundle from another
/// broker, or one replayed from an earlier request, is refused.
///
/// Signed bytes: `"sealpipe/bundle-release/v1"` · nonce (u32 big-endian length first) · the ephemeral
/// X25519 public key (32 bytes) · the sealed bundle (u32 length first).
public enum BundleRelease {
    public static let domain = Array("sealpipe/bundle-release/v1".utf8)

    public static func signedBytes(nonce: [UInt8], ephemeralKey: BoxPublicKey, sealedBundle: [UInt8]) -> [UInt8] {
        var writer = CanonicalWriter()
        writer.fixed(domain)
        writer.data(nonce)
        writer.fixed(ephemeralKey.bytes)
        writer.data(sealedBundle)
        return writer.bytes
    }

    /// The broker's signature over a release.
    public static func sign(nonce: [UInt8], ephemeralKey: BoxPublicKey, sealedBundle: [UInt8], identity: SigningKeyPair)
        -> [UInt8]
    {
        identity.signature(for: signedBytes(nonce: nonce, ephemeralKey: ephemeralKey, sealedBundle: sealedBundle))
    }

    /// True when `brokerKey` signed this release.
    public static func isValid(
        _ signature: [UInt8], nonce: [UInt8], ephemeralKey: BoxPublicKey, sealedBundle: [UInt8],
        brokerKey: SigningPublicKey
    ) -> Bool {
        signature.count == SigningPublicKey.signatureByteCount
            && brokerKey.isValidSignature(
                signature, for: signedBytes(nonce: nonce, ephemeralKey: ephemeralKey, sealedBundle: sealedBundle))
    }
}
