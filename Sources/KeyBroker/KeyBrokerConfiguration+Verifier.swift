public import Attestation
import Foundation
import Sodium

extension KeyBrokerConfiguration {
    /// The verifier the broker uses: simulated evidence against the trusted platform keys,
    /// SEV-SNP against AMD's pinned roots, TDX against Intel's with `tdxCollateral` (normally the
    /// collateral cache's contents), NVIDIA GPUs against NVIDIA's device identity root, and the
    /// composite CPU+GPU kinds from those. The release policy decides which kinds a role may use.
    public func evidenceVerifier(tdxCollateral: [TDXCollateral] = []) throws(KeyBrokerError) -> CompositeVerifier {
        var keys: [SigningPublicKey] = []
        for (i, text) in trustedPlatformKeys.enumerated() {
            guard let bytes = Hex.decode(text.lowercased()), let key = try? SigningPublicKey(bytes: bytes) else {
                throw .configuration("trustedPlatformKeys[\(i)]: not a 32-byte Ed25519 public key in hex")
            }
            keys.append(key)
        }
        var collateral = tdxCollateral
        var amdCRLs: [[UInt8]] = []
        if let collateralDirectory {
            do {
                let cache = CollateralCache(directory: URL(fileURLWithPath: collateralDirectory))
                collateral += try cache.tdxCollateral()
                amdCRLs = try cache.amdCRLs()
            } catch {
                throw .configuration("collateralDirectory: \(error)")
            }
        }
        return CompositeVerifier(verifiers: [
            .simulated: SimulatedVerifier(trustedPlatformKeys: keys),
            .sevSNP: SEVSNPVerifier(crls: amdCRLs),
            .tdx: TDXVerifier(collateral: collateral),
            .nvidiaGPU: NVIDIAGPUVerifier(),
        ])
    }
}
