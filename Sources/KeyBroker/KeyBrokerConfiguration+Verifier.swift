public import Attestation
import Sodium

extension KeyBrokerConfiguration {
    /// The verifier the broker uses: simulated evidence against the trusted platform keys, and
    /// SEV-SNP against AMD's pinned roots. The release policy decides which kinds a role may use.
    public func evidenceVerifier() throws(KeyBrokerError) -> CompositeVerifier {
        var keys: [SigningPublicKey] = []
        for (i, text) in trustedPlatformKeys.enumerated() {
            guard let bytes = Hex.decode(text.lowercased()), let key = try? SigningPublicKey(bytes: bytes) else {
                throw .configuration("trustedPlatformKeys[\(i)]: not a 32-byte Ed25519 public key in hex")
            }
            keys.append(key)
        }
        return CompositeVerifier(verifiers: [
            .simulated: SimulatedVerifier(trustedPlatformKeys: keys),
            .sevSNP: SEVSNPVerifier(),
        ])
    }
}
