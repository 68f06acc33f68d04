import Crypto
import SwiftASN1

/// ECDSA, the signature Intel's SGX/TDX PKI and NVIDIA's device identity PKI use throughout.
extension X509Certificate {
    static let ecdsaWithSHA256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 2]
    static let ecdsaWithSHA384: ASN1ObjectIdentifier = [1, 2, 840, 10045, 4, 3, 3]
    static let ecPublicKey: ASN1ObjectIdentifier = [1, 2, 840, 10045, 2, 1]
    static let curveP256: ASN1ObjectIdentifier = [1, 2, 840, 10045, 3, 1, 7]
    static let curveP384: ASN1ObjectIdentifier = [1, 3, 132, 0, 34]

    /// The certificate's EC public key, if it holds a P-256 or P-384 one.
    var ecdsaKey: ECDSAKey? {
        guard publicKeyAlgorithm == Self.ecPublicKey else { return nil }
        switch publicKeyCurve {
        case Self.curveP256?:
            return (try? P256.Signing.PublicKey(derRepresentation: subjectPublicKeyInfo)).map(ECDSAKey.p256)
        case Self.curveP384?:
            return (try? P384.Signing.PublicKey(derRepresentation: subjectPublicKeyInfo)).map(ECDSAKey.p384)
        default:
            return nil
        }
    }

    /// Whether `issuer`'s EC key made this certificate's ECDSA signature (SHA-256 or SHA-384).
    /// Nil on success, otherwise why not.
    func ecdsaSignatureProblem(issuedBy issuer: X509Certificate) -> String? {
        guard innerSignatureAlgorithm == outerSignatureAlgorithm else {
            return "\(displayName): signature algorithm inside and outside the signed part differ"
        }
        guard issuer.subject == self.issuer else {
            return "\(displayName) names issuer CN=\(issuerCommonName ?? "?"), not \(issuer.displayName)"
        }
        guard case .other(let algorithm) = signatureAlgorithm else {
            return "\(displayName): signature algorithm is not ECDSA"
        }
        guard let key = issuer.ecdsaKey else { return "\(issuer.displayName): public key is not P-256 or P-384" }
        switch key.verify(derSignature: signature, algorithm: algorithm, over: tbs) {
        case .valid: return nil
        case .unsupportedAlgorithm: return "\(displayName): signature algorithm \(algorithm) is not ECDSA-SHA256/384"
        case .invalid: return "\(displayName): ECDSA signature does not verify under \(issuer.displayName)"
        }
    }

    /// Whether basicConstraints marks this certificate as a CA.
    var isCertificateAuthority: Bool {
        guard let value = extensions["2.5.29.19"], let node = try? DER.parse(value),
            case .constructed(let parts) = node.content
        else { return false }
        guard let first = Array(parts).first, first.identifier == .boolean else { return false }
        return (try? Bool(derEncoded: first)) ?? false
    }
}

/// A P-256 or P-384 ECDSA public key.
enum ECDSAKey: Sendable {
    case p256(P256.Signing.PublicKey)
    case p384(P384.Signing.PublicKey)

    enum Outcome { case valid, invalid, unsupportedAlgorithm }

    /// Verifies a DER `ECDSA-Sig-Value` made with `algorithm` (ecdsa-with-SHA256/384) over `message`.
    func verify(derSignature: [UInt8], algorithm: ASN1ObjectIdentifier, over message: [UInt8]) -> Outcome {
        switch algorithm {
        case X509Certificate.ecdsaWithSHA256:
            return verify(der: derSignature, digest: SHA256.hash(data: message)) ? .valid : .invalid
        case X509Certificate.ecdsaWithSHA384:
            return verify(der: derSignature, digest: SHA384.hash(data: message)) ? .valid : .invalid
        default:
            return .unsupportedAlgorithm
        }
    }

    private func verify(der: [UInt8], digest: some Digest) -> Bool {
        switch self {
        case .p256(let key):
            guard let signature = try? P256.Signing.ECDSASignature(derRepresentation: der) else { return false }
            return key.isValidSignature(signature, for: digest)
        case .p384(let key):
            guard let signature = try? P384.Signing.ECDSASignature(derRepresentation: der) else { return false }
            return key.isValidSignature(signature, for: digest)
        }
    }
}
