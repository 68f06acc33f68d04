import Crypto
import Foundation

/// A throwaway certificate authority for tests: an ECDSA key (P-256 as Intel's SGX PKI uses,
/// P-384 as NVIDIA's) and its certificate, able to issue certificates and CRLs. It stands in for
/// a vendor's hierarchy only through the verifiers' `internal` test-root initialisers.
struct TestAuthority {
    enum Key {
        case p256(P256.Signing.PrivateKey)
        case p384(P384.Signing.PrivateKey)

        var publicKeyInfo: [UInt8] {
            switch self {
            case .p256(let key): Array(key.publicKey.derRepresentation)
            case .p384(let key): Array(key.publicKey.derRepresentation)
            }
        }

        /// ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for P-384.
        var algorithm: [UInt8] {
            switch self {
            case .p256: TestDER.sequence([TestDER.oid("1.2.840.10045.4.3.2")])
            case .p384: TestDER.sequence([TestDER.oid("1.2.840.10045.4.3.3")])
            }
        }

        /// The DER ECDSA-Sig-Value over `message`.
        func sign(_ message: [UInt8]) -> [UInt8] {
            switch self {
            case .p256(let key): Array(try! key.signature(for: message).derRepresentation)
            case .p384(let key): Array(try! key.signature(for: message).derRepresentation)
            }
        }

        /// The raw r ‖ s ECDSA signature over `message` (Intel's quotes and collateral, NVIDIA's reports).
        func rawSignature(_ message: [UInt8]) -> [UInt8] {
            switch self {
            case .p256(let key): Array(try! key.signature(for: message).rawRepresentation)
            case .p384(let key): Array(try! key.signature(for: message).rawRepresentation)
            }
        }

        static func fresh(p384: Bool) -> Key {
            p384 ? .p384(P384.Signing.PrivateKey()) : .p256(P256.Signing.PrivateKey())
        }
    }

    let name: String
    let key: Key
    let certificate: [UInt8]

    static let notBefore = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01
    static let notAfter = Date(timeIntervalSince1970: 2_208_988_800)  // 2040-01-01

    /// A self-signed root CA.
    static func root(_ name: String, p384: Bool = false) -> TestAuthority {
        let key = Key.fresh(p384: p384)
        let tbs = tbsCertificate(
            serial: [0x01], issuer: name, subject: name, algorithm: key.algorithm, publicKeyInfo: key.publicKeyInfo,
            extensions: [basicConstraints(ca: true)], notBefore: notBefore, notAfter: notAfter)
        return TestAuthority(name: name, key: key, certificate: signed(tbs, by: key))
    }

    /// A CA certificate for a new key, issued by this authority.
    func subordinate(_ name: String, serial: [UInt8], p384: Bool = false) -> TestAuthority {
        let key = Key.fresh(p384: p384)
        let certificate = issue(
            subject: name, publicKeyInfo: key.publicKeyInfo, serial: serial,
            extensions: [Self.basicConstraints(ca: true)])
        return TestAuthority(name: name, key: key, certificate: certificate)
    }

    /// A certificate for `publicKeyInfo` (SubjectPublicKeyInfo DER), issued by this authority.
    func issue(
        subject: String, publicKeyInfo: [UInt8], serial: [UInt8], extensions: [[UInt8]],
        notBefore: Date = TestAuthority.notBefore, notAfter: Date = TestAuthority.notAfter
    ) -> [UInt8] {
        let tbs = Self.tbsCertificate(
            serial: serial, issuer: name, subject: subject, algorithm: key.algorithm, publicKeyInfo: publicKeyInfo,
            extensions: extensions, notBefore: notBefore, notAfter: notAfter)
        return Self.signed(tbs, by: key)
    }

    /// A v2 CRL issued by this authority, revoking `serials`.
    func crl(revoking serials: [[UInt8]], thisUpdate: Date, nextUpdate: Date) -> [UInt8] {
        var fields = [
            TestDER.integer(1), key.algorithm, TestDER.name(name), TestDER.time(thisUpdate), TestDER.time(nextUpdate),
        ]
        if !serials.isEmpty {
            fields.append(
                TestDER.sequence(
                    serials.map { TestDER.sequence([TestDER.integer($0), TestDER.time(thisUpdate)]) }))
        }
        return Self.signed(TestDER.sequence(fields), by: key)
    }

    /// PEM text of certificates, in order.
    static func pem(_ certificates: [[UInt8]]) -> String {
        certificates.map {
            "-----BEGIN CERTIFICATE-----\n" + Data($0).base64EncodedString(options: .lineLength64Characters)
                + "\n-----END CERTIFICATE-----\n"
        }.joined()
    }

    static func basicConstraints(ca: Bool) -> [UInt8] {
        extensionField("2.5.29.19", critical: true, TestDER.sequence(ca ? [TestDER.boolean(true)] : []))
    }

    static func extensionField(_ oid: String, critical: Bool = false, _ value: [UInt8]) -> [UInt8] {
        TestDER.sequence(
            [TestDER.oid(oid)] + (critical ? [TestDER.boolean(true)] : []) + [TestDER.octets(value)])
    }

    private static func tbsCertificate(
        serial: [UInt8], issuer: String, subject: String, algorithm: [UInt8], publicKeyInfo: [UInt8],
        extensions: [[UInt8]], notBefore: Date, notAfter: Date
    ) -> [UInt8] {
        TestDER.sequence([
            TestDER.explicit(0, TestDER.integer(2)), TestDER.integer(serial), algorithm, TestDER.name(issuer),
            TestDER.sequence([TestDER.time(notBefore), TestDER.time(notAfter)]), TestDER.name(subject), publicKeyInfo,
            TestDER.explicit(3, TestDER.sequence(extensions)),
        ])
    }

    private static func signed(_ tbs: [UInt8], by key: Key) -> [UInt8] {
        TestDER.sequence([tbs, key.algorithm, TestDER.bits(key.sign(tbs))])
    }
}
