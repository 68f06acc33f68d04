import Crypto
import Foundation
import Sodium
import SwiftASN1
import _CryptoExtras

/// The parts of an X.509 certificate the AMD, Intel and NVIDIA chains need, read with swift-asn1.
///
/// swift-certificates cannot verify RSA-PSS signatures, which every AMD certificate uses, so the
/// chain is checked here: structure and validity from the DER, signatures with swift-crypto
/// (RSA-PSS here, ECDSA in `X509Certificate+ECDSA.swift`).
struct X509Certificate: Sendable, Hashable {
    /// RSASSA-PSS parameters as found in the certificate (RFC 4055 defaults apply when absent).
    struct PSSParameters: Sendable, Hashable {
        var hash: ASN1ObjectIdentifier
        var maskGeneration: ASN1ObjectIdentifier
        var maskGenerationHash: ASN1ObjectIdentifier
        var saltLength: Int
        var trailerField: Int
    }

    enum SignatureAlgorithm: Sendable, Hashable {
        case rsaPSS(PSSParameters)
        case other(ASN1ObjectIdentifier)
    }

    let der: [UInt8]
    let tbs: [UInt8]
    let serialNumber: [UInt8]
    let issuer: [UInt8]
    let subject: [UInt8]
    let issuerCommonName: String?
    let subjectCommonName: String?
    let notBefore: Date
    let notAfter: Date
    let subjectPublicKeyInfo: [UInt8]
    let publicKeyAlgorithm: ASN1ObjectIdentifier
    let publicKeyCurve: ASN1ObjectIdentifier?
    let innerSignatureAlgorithm: [UInt8]
    let outerSignatureAlgorithm: [UInt8]
    let signatureAlgorithm: SignatureAlgorithm
    let signature: [UInt8]
    /// Extension values (the contents of `extnValue`) by dotted OID.
    let extensions: [String: [UInt8]]

    static let sha384: ASN1ObjectIdentifier = [2, 16, 840, 1, 101, 3, 4, 2, 2]
    static let sha1: ASN1ObjectIdentifier = [1, 3, 14, 3, 2, 26]
    static let mgf1: ASN1ObjectIdentifier = [1, 2, 840, 113_549, 1, 1, 8]

    var sha256Fingerprint: [UInt8] { Array(Crypto.SHA256.hash(data: der)) }
    var fingerprintHex: String { Hex.encode(sha256Fingerprint) }
    var isSelfIssued: Bool { issuer == subject }
    var displayName: String { subjectCommonName.map { "CN=\($0)" } ?? "(no CN)" }

    init(derEncoded der: [UInt8]) throws(AttestationError) {
        do {
            try self.init(parsing: der)
        } catch let error as AttestationError {
            throw error
        } catch {
            throw .malformed(what: "certificate", reason: "not a DER X.509 certificate (\(error))")
        }
    }

    private init(parsing der: [UInt8]) throws {
        self.der = der
        let root = try DER.parse(der)
        guard root.encodedBytes.count == der.count else { throw Self.bad("trailing bytes after the certificate") }
        let top = try Self.children(of: root, expecting: .sequence, what: "Certificate")
        guard top.count == 3 else { throw Self.bad("Certificate has \(top.count) elements, expected 3") }
        tbs = Array(top[0].encodedBytes)
        outerSignatureAlgorithm = Array(top[1].encodedBytes)
        signatureAlgorithm = try Self.parseSignatureAlgorithm(top[1])
        let bits = try ASN1BitString(derEncoded: top[2])
        guard bits.paddingBits == 0 else { throw Self.bad("signature BIT STRING has padding bits") }
        signature = Array(bits.bytes)

        var fields = try Self.children(of: top[0], expecting: .sequence, what: "TBSCertificate")[...]
        let versionTag = ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
        if let first = fields.first, first.identifier == versionTag {
            fields = fields.dropFirst()
        }
        guard fields.count >= 6 else { throw Self.bad("TBSCertificate has too few fields") }
        let f = Array(fields)
        guard f[0].identifier == .integer, case .primitive(let serial) = f[0].content else {
            throw Self.bad("serialNumber is not an INTEGER")
        }
        serialNumber = Array(serial)
        innerSignatureAlgorithm = Array(f[1].encodedBytes)
        issuer = Array(f[2].encodedBytes)
        issuerCommonName = try Self.commonName(in: f[2])
        let validity = try Self.children(of: f[3], expecting: .sequence, what: "Validity")
        guard validity.count == 2 else { throw Self.bad("Validity has \(validity.count) elements") }
        notBefore = try Self.time(validity[0])
        notAfter = try Self.time(validity[1])
        subject = Array(f[4].encodedBytes)
        subjectCommonName = try Self.commonName(in: f[4])
        subjectPublicKeyInfo = Array(f[5].encodedBytes)
        let spki = try Self.children(of: f[5], expecting: .sequence, what: "SubjectPublicKeyInfo")
        guard spki.count == 2 else { throw Self.bad("SubjectPublicKeyInfo has \(spki.count) elements") }
        let keyAlgorithm = try Self.children(of: spki[0], expecting: .sequence, what: "AlgorithmIdentifier")
        guard let algorithmNode = keyAlgorithm.first else { throw Self.bad("empty public key AlgorithmIdentifier") }
        publicKeyAlgorithm = try ASN1ObjectIdentifier(derEncoded: algorithmNode)
        if keyAlgorithm.count > 1, keyAlgorithm[1].identifier == .objectIdentifier {
            publicKeyCurve = try ASN1ObjectIdentifier(derEncoded: keyAlgorithm[1])
        } else {
            publicKeyCurve = nil
        }

        var extensions: [String: [UInt8]] = [:]
        let extensionsTag = ASN1Identifier(tagWithNumber: 3, tagClass: .contextSpecific)
        for node in f.dropFirst(6) where node.identifier == extensionsTag {
            let wrapped = try Self.children(of: node, expecting: extensionsTag, what: "extensions")
            guard wrapped.count == 1 else { throw Self.bad("extensions wrapper holds \(wrapped.count) elements") }
            for item in try Self.children(of: wrapped[0], expecting: .sequence, what: "Extensions") {
                let parts = try Self.children(of: item, expecting: .sequence, what: "Extension")
                guard parts.count >= 2 else { throw Self.bad("Extension has \(parts.count) elements") }
                let oid = try ASN1ObjectIdentifier(derEncoded: parts[0])
                let value = try ASN1OctetString(derEncoded: parts[parts.count - 1])
                extensions[oid.description] = Array(value.bytes)
            }
        }
        self.extensions = extensions
    }

    /// Whether `issuer`'s RSA key made this certificate's RSA-PSS/SHA-384 (salt 48) signature.
    /// Returns nil on success, or why it is not valid.
    func signatureProblem(issuedBy issuer: X509Certificate) -> String? {
        guard innerSignatureAlgorithm == outerSignatureAlgorithm else {
            return "\(displayName): signature algorithm inside and outside the signed part differ"
        }
        guard case .rsaPSS(let parameters) = signatureAlgorithm else {
            return "\(displayName): signature algorithm is not RSASSA-PSS"
        }
        guard parameters.hash == Self.sha384, parameters.maskGeneration == Self.mgf1,
            parameters.maskGenerationHash == Self.sha384, parameters.saltLength == 48, parameters.trailerField == 1
        else {
            return "\(displayName): RSA-PSS parameters are not SHA-384/MGF1-SHA-384/salt 48"
        }
        let key: _RSA.Signing.PublicKey
        do {
            key = try _RSA.Signing.PublicKey(derRepresentation: issuer.subjectPublicKeyInfo)
        } catch {
            return "\(issuer.displayName): public key is not a usable RSA key"
        }
        let valid = key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: Crypto.SHA384.hash(data: tbs),
            padding: .PSS)
        return valid ? nil : "\(displayName): RSA-PSS signature does not verify under \(issuer.displayName)"
    }

    /// Nil if `now` is inside the validity period, otherwise why not.
    func validityProblem(at now: Date) -> String? {
        if now < notBefore { return "\(displayName) is not valid before \(Self.format(notBefore))" }
        if now > notAfter { return "\(displayName) expired at \(Self.format(notAfter))" }
        return nil
    }

    static func format(_ date: Date) -> String {
        date.formatted(.iso8601)
    }

    // MARK: - DER helpers

    static func bad(_ reason: String) -> AttestationError {
        .malformed(what: "certificate", reason: reason)
    }

    static func children(of node: ASN1Node, expecting identifier: ASN1Identifier, what: String) throws
        -> [ASN1Node]
    {
        guard node.identifier == identifier, case .constructed(let nodes) = node.content else {
            throw bad("\(what) is not a constructed \(identifier)")
        }
        return Array(nodes)
    }

    private static func parseSignatureAlgorithm(_ node: ASN1Node) throws -> SignatureAlgorithm {
        let parts = try children(of: node, expecting: .sequence, what: "signatureAlgorithm")
        guard let first = parts.first else { throw bad("empty signatureAlgorithm") }
        let oid = try ASN1ObjectIdentifier(derEncoded: first)
        guard oid == .AlgorithmIdentifier.rsaPSS else { return .other(oid) }
        var parameters = PSSParameters(
            hash: sha1, maskGeneration: mgf1, maskGenerationHash: sha1, saltLength: 20, trailerField: 1)
        guard parts.count == 2 else { return .rsaPSS(parameters) }
        for field in try children(of: parts[1], expecting: .sequence, what: "RSASSA-PSS-params") {
            guard field.identifier.tagClass == .contextSpecific, case .constructed(let inner) = field.content,
                let value = Array(inner).first
            else { throw bad("RSASSA-PSS-params holds an unexpected element") }
            switch field.identifier.tagNumber {
            case 0:
                parameters.hash = try algorithmOID(value)
            case 1:
                let mgf = try children(of: value, expecting: .sequence, what: "maskGenAlgorithm")
                guard mgf.count == 2 else { throw bad("maskGenAlgorithm has \(mgf.count) elements") }
                parameters.maskGeneration = try ASN1ObjectIdentifier(derEncoded: mgf[0])
                parameters.maskGenerationHash = try algorithmOID(mgf[1])
            case 2:
                parameters.saltLength = try Int(derEncoded: value)
            case 3:
                parameters.trailerField = try Int(derEncoded: value)
            default:
                throw bad("RSASSA-PSS-params has unknown field [\(field.identifier.tagNumber)]")
            }
        }
        return .rsaPSS(parameters)
    }

    private static func algorithmOID(_ node: ASN1Node) throws -> ASN1ObjectIdentifier {
        let parts = try children(of: node, expecting: .sequence, what: "AlgorithmIdentifier")
        guard let first = parts.first else { throw bad("empty AlgorithmIdentifier") }
        return try ASN1ObjectIdentifier(derEncoded: first)
    }

    static func commonName(in name: ASN1Node) throws -> String? {
        for rdn in try children(of: name, expecting: .sequence, what: "Name") {
            for attribute in try children(of: rdn, expecting: .set, what: "RelativeDistinguishedName") {
                let parts = try children(of: attribute, expecting: .sequence, what: "AttributeTypeAndValue")
                guard parts.count == 2 else { continue }
                if try ASN1ObjectIdentifier(derEncoded: parts[0]) == .NameAttributes.commonName,
                    case .primitive(let bytes) = parts[1].content
                {
                    return String(decoding: bytes, as: UTF8.self)
                }
            }
        }
        return nil
    }

    static func time(_ node: ASN1Node) throws -> Date {
        let fields: (Int, Int, Int, Int, Int, Int)
        if node.identifier == .utcTime {
            let t = try UTCTime(derEncoded: node)
            fields = (t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
        } else if node.identifier == .generalizedTime {
            let t = try GeneralizedTime(derEncoded: node)
            fields = (t.year, t.month, t.day, t.hours, t.minutes, t.seconds)
        } else {
            throw bad("validity time is neither UTCTime nor GeneralizedTime")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        let components = DateComponents(
            year: fields.0, month: fields.1, day: fields.2, hour: fields.3, minute: fields.4, second: fields.5)
        guard let date = calendar.date(from: components) else { throw bad("validity time is not a real date") }
        return date
    }
}
