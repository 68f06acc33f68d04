import Crypto
import Foundation
import Sodium

@testable import Attestation

/// A throwaway Intel-like TDX platform: a root CA, a PCK Platform CA, a PCK leaf with the SGX
/// extensions the verifier reads (FMSPC, PCE-ID, TCB), a TCB Signing certificate, and a quote and
/// collateral (TCB Info, QE Identity, CRLs) signed with them. `Facts` are what a test flips: the
/// keys stay the same, so a refused case differs from the accepted one in that fact alone.
struct TestTDXPlatform {
    /// Everything a quote and its collateral say that a check judges.
    struct Facts {
        /// The platform's FMSPC and PCE-ID, in its PCK certificate.
        var fmspc: [UInt8] = [0x00, 0x90, 0x6e, 0xd5, 0x00, 0x00]
        var pceID: [UInt8] = [0x00, 0x00]
        /// What the TCB Info says they are (nil: the PCK's).
        var tcbInfoFMSPC: String?
        var tcbInfoPCEID: String?
        /// Serials the root CA CRL lists.
        var rootCRLRevokes: [[UInt8]] = []
        /// Signs the root CA CRL instead of the root (a key the verifier does not trust).
        var rootCRLSigner: TestAuthority?
        /// The QE's ISV SVN in its report, against the QE Identity's levels 4 UpToDate, 3
        /// OutOfDate, 2 Revoked.
        var qeISVSVN: UInt16 = 4
        /// The TDX module's SVN (TEE_TCB_SVN[0]; module version TEE_TCB_SVN[1] = 1, so identity
        /// TDX_01), against the TCB Info's module levels 3 UpToDate, 2 Revoked.
        var moduleSVN: UInt8 = 3
    }

    static let issued = "2025-01-01T00:00:00Z"
    static let nextUpdate = "2025-02-01T00:00:00Z"
    /// Inside every window above and every certificate's validity.
    static let now = Date(timeIntervalSince1970: 1_736_899_200)  // 2025-01-15

    static let pckCASerial: [UInt8] = [0x10]
    static let tcbSigningSerial: [UInt8] = [0x11]
    static let qeMRSigner = [UInt8](repeating: 0xdc, count: 32)

    let root = TestAuthority.root("Test SGX Root CA")
    let pckCA: TestAuthority
    let tcbSigning: TestAuthority.Key = .fresh(p384: false)
    let tcbSigningCertificate: [UInt8]
    let pckKey = P256.Signing.PrivateKey()
    let attestationKey = P256.Signing.PrivateKey()

    init() {
        pckCA = root.subordinate("Test SGX PCK Platform CA", serial: Self.pckCASerial)
        tcbSigningCertificate = root.issue(
            subject: "Test SGX TCB Signing", publicKeyInfo: tcbSigning.publicKeyInfo, serial: Self.tcbSigningSerial,
            extensions: [TestAuthority.basicConstraints(ca: false)])
    }

    /// The verifier anchored at this platform's root.
    func verifier(_ collateral: TDXCollateral) -> TDXVerifier {
        TDXVerifier(collateral: [collateral], testRoot: try! X509Certificate(derEncoded: root.certificate))
    }

    // MARK: - Quote

    func pckCertificate(_ facts: Facts) -> [UInt8] {
        let sgx = "1.2.840.113741.1.13.1"
        func item(_ oid: String, _ value: [UInt8]) -> [UInt8] { TestDER.sequence([TestDER.oid(oid), value]) }
        let tcb =
            (1...16).map { item("\(sgx).2.\($0)", TestDER.integer(2)) } + [
                item("\(sgx).2.17", TestDER.integer(11)),
                item("\(sgx).2.18", TestDER.octets([UInt8](repeating: 2, count: 16))),
            ]
        let extensionValue = TestDER.sequence([
            item("\(sgx).1", TestDER.octets([UInt8](repeating: 0x5e, count: 16))),
            item("\(sgx).2", TestDER.sequence(tcb)),
            item("\(sgx).3", TestDER.octets(facts.pceID)),
            item("\(sgx).4", TestDER.octets(facts.fmspc)),
            item("\(sgx).5", TestDER.tlv(0x0a, [0])),
        ])
        return pckCA.issue(
            subject: "Test SGX PCK Certificate", publicKeyInfo: Array(pckKey.publicKey.derRepresentation),
            serial: [0x20, 0x01],
            extensions: [
                TestAuthority.basicConstraints(ca: false), TestAuthority.extensionField(sgx, extensionValue),
            ])
    }

    /// A v4 quote (TD 1.0 body) whose every signature verifies under this platform's keys.
    func quote(_ facts: Facts) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 48)
        header[0] = 4
        header[2] = 2
        header[4] = 0x81
        header.replaceSubrange(12..<28, with: TDXQuote.intelQEVendorID)
        var body = [UInt8](repeating: 0, count: TDXQuote.td10BodySize)
        body[0] = facts.moduleSVN
        body[1] = 1
        body[2] = 2
        body.replaceSubrange(136..<184, with: [UInt8](repeating: 0x5a, count: 48))  // MRTD
        body.replaceSubrange(520..<584, with: [UInt8](repeating: 0x42, count: 64))  // REPORTDATA
        let signed = header + body

        let attestationPoint = Array(attestationKey.publicKey.rawRepresentation)
        let authData = Array(0..<32).map { UInt8($0) }
        var qeReport = [UInt8](repeating: 0, count: TDXQuote.qeReportSize)
        qeReport.replaceSubrange(0..<16, with: [UInt8](repeating: 2, count: 16))
        qeReport[48] = 0x11  // ATTRIBUTES
        qeReport.replaceSubrange(128..<160, with: Self.qeMRSigner)
        qeReport[256] = 2  // ISVPRODID
        qeReport[258] = UInt8(facts.qeISVSVN & 0xff)
        qeReport[259] = UInt8(facts.qeISVSVN >> 8)
        qeReport.replaceSubrange(320..<352, with: Array(SHA256.hash(data: attestationPoint + authData)))

        let chain = Array(TestAuthority.pem([pckCertificate(facts), pckCA.certificate, root.certificate]).utf8) + [0]
        let certification =
            qeReport + Array(try! pckKey.signature(for: qeReport).rawRepresentation) + Self.le(authData.count, 2)
            + authData + Self.le(5, 2) + Self.le(chain.count, 4) + chain
        let signature =
            Array(try! attestationKey.signature(for: signed).rawRepresentation) + attestationPoint + Self.le(6, 2)
            + Self.le(certification.count, 4) + certification
        return signed + Self.le(signature.count, 4) + signature
    }

    // MARK: - Collateral

    func collateral(_ facts: Facts) -> TDXCollateral {
        let dates = (IntelDate.parse(Self.issued)!, IntelDate.parse(Self.nextUpdate)!)
        let tcbInfo = Self.json(tcbInfo(facts))
        let qeIdentity = Self.json(qeIdentity())
        let tcbChain = TestAuthority.pem([tcbSigningCertificate, root.certificate])
        let rootCRLSigner = facts.rootCRLSigner ?? root
        return TDXCollateral(
            pckCRLIssuerChain: TestAuthority.pem([pckCA.certificate, root.certificate]),
            rootCACRL: rootCRLSigner.crl(revoking: facts.rootCRLRevokes, thisUpdate: dates.0, nextUpdate: dates.1),
            pckCRL: pckCA.crl(revoking: [[0x77, 0x01]], thisUpdate: dates.0, nextUpdate: dates.1),
            tcbInfoIssuerChain: tcbChain, tcbInfo: tcbInfo, tcbInfoSignature: tcbSigning.rawSignature(tcbInfo),
            qeIdentityIssuerChain: tcbChain, qeIdentity: qeIdentity,
            qeIdentitySignature: tcbSigning.rawSignature(qeIdentity))
    }

    private func tcbInfo(_ facts: Facts) -> [String: Any] {
        func components(_ svns: [Int]) -> [[String: Any]] { svns.map { ["svn": $0] } }
        let zeroSigner = String(repeating: "00", count: 48)
        return [
            "id": "TDX", "version": 3, "issueDate": Self.issued, "nextUpdate": Self.nextUpdate,
            "fmspc": facts.tcbInfoFMSPC ?? Hex.encode(facts.fmspc),
            "pceId": facts.tcbInfoPCEID ?? Hex.encode(facts.pceID),
            "tcbType": 0, "tcbEvaluationDataNumber": 17,
            "tdxModule": [
                "mrsigner": zeroSigner, "attributes": "0000000000000000", "attributesMask": "FFFFFFFFFFFFFFFF",
            ],
            "tdxModuleIdentities": [
                [
                    "id": "TDX_01", "mrsigner": zeroSigner, "attributes": "0000000000000000",
                    "attributesMask": "FFFFFFFFFFFFFFFF",
                    "tcbLevels": [
                        Self.level(["isvsvn": 3], "UpToDate"),
                        Self.level(["isvsvn": 2], "Revoked", advisory: "INTEL-SA-00001"),
                    ],
                ]
            ],
            "tcbLevels": [
                Self.level(
                    [
                        "sgxtcbcomponents": components(Array(repeating: 2, count: 16)), "pcesvn": 11,
                        "tdxtcbcomponents": components([0, 0, 2] + Array(repeating: 0, count: 13)),
                    ], "UpToDate")
            ],
        ]
    }

    private func qeIdentity() -> [String: Any] {
        [
            "id": "TD_QE", "version": 2, "issueDate": Self.issued, "nextUpdate": Self.nextUpdate,
            "tcbEvaluationDataNumber": 17, "miscselect": "00000000", "miscselectMask": "FFFFFFFF",
            "attributes": "11000000000000000000000000000000", "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
            "mrsigner": Hex.encode(Self.qeMRSigner).uppercased(), "isvprodid": 2,
            "tcbLevels": [
                Self.level(["isvsvn": 4], "UpToDate"),
                Self.level(["isvsvn": 3], "OutOfDate", advisory: "INTEL-SA-00002"),
                Self.level(["isvsvn": 2], "Revoked", advisory: "INTEL-SA-00003"),
            ],
        ]
    }

    private static func level(_ tcb: [String: Any], _ status: String, advisory: String? = nil) -> [String: Any] {
        var level: [String: Any] = ["tcb": tcb, "tcbDate": "2024-11-13T00:00:00Z", "tcbStatus": status]
        if let advisory { level["advisoryIDs"] = [advisory] }
        return level
    }

    private static func json(_ object: [String: Any]) -> [UInt8] {
        [UInt8](try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    private static func le(_ value: Int, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
