import Crypto

/// The nonce a node asks its GPU to sign into composite evidence.
///
/// The GPU report is bound to the CPU report by deriving its 32-byte SPDM nonce from the CPU
/// report's 64 report-data bytes (which already bind the broker's nonce, the node's ephemeral key
/// and its role): a GPU report made for another request, key or role carries another nonce.
public enum GPUNonce {
    public static let byteCount = 32
    static let label = Array("sealpipe gpu nonce v1".utf8)

    /// SHA-256("sealpipe gpu nonce v1" ‖ report data).
    public static func binding(reportData: [UInt8]) -> [UInt8] {
        var hasher = Crypto.SHA256()
        hasher.update(data: label)
        hasher.update(data: reportData)
        return Array(hasher.finalize())
    }
}
