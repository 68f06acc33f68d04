import Crypto
import Foundation
import SwiftASN1
import _CryptoExtras

/// An X.509 CRL (RFC 5280 §5), read with swift-asn1: who issued it, when, until when, and which
/// serial numbers it revokes. Signatures: ECDSA (Intel) or RSA-PSS/SHA-384 (AMD).
struct CertificateRevocationList: Sendable, Hashable {
    let der: [UInt8]
    let tbs: [UInt8]
    let issuer: [UInt8]
    let issuerCommonName: String?
    let thisUpdate: Date
    let nextUpdate: Date?
    /// Revoked serial numbers, as the INTEGER content bytes a certificate's serial also has.
    var revokedSerials: Set<[UInt8]>
    let innerSignatureAlgorithm: [UInt8]
    let outerSignatureAlgorithm: [UInt8]
    let signatureAlgorithm: ASN1ObjectIdentifier
    let signature: [UInt8]

    var displayName: String { "CRL of CN=\(issuerCommonName ?? "?")" }

    init(derEncoded der: [UInt8]) throws(AttestationError) {
        do {
            try self.init(parsing: der)
        } catch let error as AttestationError {
            throw error
        } catch {
            throw .malformed(what: "CRL", reason: "not a DER X.509 CRL (\(error))")
        }
    }

    private init(parsing der: [UInt8]) throws {
        func bad(_ reason: String) -> AttestationError { .malformed(what: "CRL", reason: reason) }
        self.der = der
        let root = try DER.parse(der)
        guard root.encodedBytes.count == der.count else { throw bad("trailing bytes after the CRL") }
        let top = try X509Certificate.children(of: root, expecting: .sequence, what: "CertificateList")
        guard top.count == 3 else { throw bad("CertificateList has \(top.count) elements, expected 3") }
        tbs = Array(top[0].encodedBytes)
        outerSignatureAlgorithm = Array(top[1].encodedBytes)
        let algorithm = try X509Certificate.children(of: top[1], expecting: .sequence, what: "signatureAlgorithm")
        guard let oid = algorithm.first else { throw bad("empty signatureAlgorithm") }
        signatureAlgorithm = try ASN1ObjectIdentifier(derEncoded: oid)
        let bits = try ASN1BitString(derEncoded: top[2])
        guard bits.paddingBits == 0 else { throw bad("signature BIT STRING has padding bits") }
        signature = Array(bits.bytes)

        var fields = try X509Certificate.children(of: top[0], expecting: .sequence, what: "TBSCertList")[...]
        if let first = fields.first, first.identifier == .integer { fields = fields.dropFirst() }
        let f = Array(fields)
        guard f.count >= 3 else { throw bad("TBSCertList has too few fields") }
        innerSignatureAlgorithm = Array(f[0].encodedBytes)
        issuer = Array(f[1].encodedBytes)
        issuerCommonName = try X509Certificate.commonName(in: f[1])
        thisUpdate = try X509Certificate.time(f[2])
        var rest = f.dropFirst(3)
        if let next = rest.first, next.identifier == .utcTime || next.identifier == .generalizedTime {
            nextUpdate = try X509Certificate.time(next)
            rest = rest.dropFirst()
        } else {
            nextUpdate = nil
        }
        var serials: Set<[UInt8]> = []
        if let list = rest.first, list.identifier == .sequence {
            for entry in try X509Certificate.children(of: list, expecting: .sequence, what: "revokedCertificates") {
                let parts = try X509Certificate.children(of: entry, expecting: .sequence, what: "revoked entry")
                guard let serial = parts.first, serial.identifier == .integer,
                    case .primitive(let bytes) = serial.content
                else { throw bad("revoked entry has no serial number") }
                serials.insert(Array(bytes))
            }
        }
        revokedSerials = serials
    }

    /// Nil if `issuer` signed this CRL, otherwise why not.
    func signatureProblem(issuedBy issuer: X509Certificate) -> String? {
        guard innerSignatureAlgorithm == outerSignatureAlgorithm else {
            return "\(displayName): signature algorithm inside and outside the signed part differ"
        }
        guard issuer.subject == self.issuer else { return "\(displayName) is not issued by \(issuer.displayName)" }
        if signatureAlgorithm == .AlgorithmIdentifier.rsaPSS {
            guard let key = try? _RSA.Signing.PublicKey(derRepresentation: issuer.subjectPublicKeyInfo) else {
                return "\(issuer.displayName): public key is not a usable RSA key"
            }
            let valid = key.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA384.hash(data: tbs), padding: .PSS)
            return valid ? nil : "\(displayName): RSA-PSS signature does not verify under \(issuer.displayName)"
        }
        guard let key = issuer.ecdsaKey else { return "\(issuer.displayName): public key is not P-256 or P-384" }
        switch key.verify(derSignature: signature, algorithm: signatureAlgorithm, over: tbs) {
        case .valid: return nil
        case .unsupportedAlgorithm: return "\(displayName): signature algorithm \(signatureAlgorithm) is not supported"
        case .invalid: return "\(displayName): signature does not verify under \(issuer.displayName)"
        }
    }

    /// Nil if `now` lies between thisUpdate and nextUpdate (a CRL without nextUpdate is refused:
    /// it could never be called stale).
    func validityProblem(at now: Date) -> String? {
        if now < thisUpdate { return "\(displayName) is not valid before \(X509Certificate.format(thisUpdate))" }
        guard let nextUpdate else { return "\(displayName) has no nextUpdate" }
        if now > nextUpdate {
            return "\(displayName) is stale: its nextUpdate was \(X509Certificate.format(nextUpdate))"
        }
        return nil
    }

    /// Whether `certificate` (issued by this CRL's issuer) is revoked.
    func revokes(_ certificate: X509Certificate) -> Bool {
        certificate.issuer == issuer && revokedSerials.contains(certificate.serialNumber)
    }
}
