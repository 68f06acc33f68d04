import Crypto

/// The 64 bytes a node asks its TEE to sign into its evidence.
///
/// Binding the broker's one-time nonce, the node's ephemeral X25519 public key and its role means
/// a report cannot be replayed, cannot be redirected to another key, and cannot be presented for
/// another role's keys.
public enum ReportData {
    public static let byteCount = 64

    /// SHA-512(nonce ‖ ephemeral public key ‖ UTF-8 role).
    public static func binding(nonce: [UInt8], ephemeralPublicKey: [UInt8], role: String) -> [UInt8] {
        var hasher = Crypto.SHA512()
        hasher.update(data: nonce)
        hasher.update(data: ephemeralPublicKey)
        hasher.update(data: Array(role.utf8))
        return Array(hasher.finalize())
    }
}
