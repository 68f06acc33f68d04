import Crypto
import Foundation

@testable import Attestation

/// A throwaway NVIDIA-like GPU: a P-384 device identity root, a leaf certificate carrying a DICE
/// TcbInfo FWID, and SPDM GET_MEASUREMENTS evidence signed by the leaf key. `Facts` are what a test
/// flips; the keys stay the same.
struct TestGPUDevice {
    struct Facts {
        static let certifiedFWID = [UInt8](repeating: 0xf5, count: 48)

        /// The FWID the report's opaque data carries (field 20).
        var fwid: [UInt8] = Facts.certifiedFWID
        /// The FWID the leaf certificate carries; nil: no DICE TcbInfo extension.
        var certificateFWID: [UInt8]? = Facts.certifiedFWID
        /// The signed feature flag (opaque field 36, little-endian); nil: the field is absent.
        var featureFlag: [UInt8]? = [0x00, 0x00]
        /// Measurement blocks by index (48-byte values).
        var blocks: [UInt8: [UInt8]] = [
            1: [UInt8](repeating: 0x11, count: 48), 2: [UInt8](repeating: 0x22, count: 48),
            3: [UInt8](repeating: 0x33, count: 48),
        ]
        var nonce = [UInt8](repeating: 0x9c, count: 32)
    }

    static let now = Date(timeIntervalSince1970: 1_736_899_200)  // 2025-01-15

    let root = TestAuthority.root("Test Device Identity CA", p384: true)
    let leafKey = P384.Signing.PrivateKey()

    /// The verifier anchored at this device's root, with `rims` as reference values.
    func verifier(rims: [NVIDIARIM] = []) -> NVIDIAGPUVerifier {
        NVIDIAGPUVerifier(rims: rims, testRoot: try! X509Certificate(derEncoded: root.certificate))
    }

    func verify(_ facts: Facts, policy: NVIDIAGPUPolicy? = nil, rims: [NVIDIARIM] = []) -> VerificationResult {
        let expectations = Expectations(
            reportData: [], policy: EvidencePolicy(measurements: [], nvidiaGPU: policy), measurements: [],
            gpuNonce: facts.nonce)
        return verifier(rims: rims).verify(evidence(facts), expectations: expectations, now: Self.now)
    }

    func evidence(_ facts: Facts) -> Evidence {
        Evidence(kind: .nvidiaGPU, report: report(facts), certificates: [leaf(facts), root.certificate])
    }

    func leaf(_ facts: Facts) -> [UInt8] {
        var extensions = [TestAuthority.basicConstraints(ca: false)]
        if let fwid = facts.certificateFWID {
            // TcbInfo ::= SEQUENCE { …, fwids [6] IMPLICIT SEQUENCE OF FWID, … }; FWID ::= SEQUENCE
            // { hashAlg OID, digest OCTET STRING }.
            let fwids = TestDER.tlv(
                0xa6, TestDER.sequence([TestDER.oid("2.16.840.1.101.3.4.2.2"), TestDER.octets(fwid)]))
            extensions.append(TestAuthority.extensionField("2.23.133.5.4.1", TestDER.sequence([fwids])))
        }
        return root.issue(
            subject: "Test GPU FMC LF", publicKeyInfo: Array(leafKey.publicKey.derRepresentation), serial: [0x42],
            extensions: extensions)
    }

    /// GET_MEASUREMENTS request ‖ MEASUREMENTS response, signed by the leaf key.
    func report(_ facts: Facts) -> [UInt8] {
        let request: [UInt8] = [0x11, 0xe0, 0x01, 0xff] + facts.nonce + [0x00]
        var record: [UInt8] = []
        for (index, value) in facts.blocks.sorted(by: { $0.key < $1.key }) {
            record += [index, 0x01] + Self.le(3 + value.count, 2) + [0x80] + Self.le(value.count, 2) + value
        }
        var opaque: [UInt8] = []
        func field(_ type: Int, _ value: [UInt8]) { opaque += Self.le(type, 2) + Self.le(value.count, 2) + value }
        field(3, Array("550.90.07".utf8) + [UInt8](repeating: 0, count: 7))
        field(6, [0x00, 0x9f, 0x00, 0x96, 0x01, 0x00, 0x00, 0x00])
        field(20, facts.fwid)
        if let flag = facts.featureFlag { field(36, flag) }
        let response =
            [0x11, 0x60, 0x00, 0x00, UInt8(facts.blocks.count)] + Self.le(record.count, 3) + record
            + [UInt8](repeating: 0x3e, count: 32) + Self.le(opaque.count, 2) + opaque
        let signed = request + response
        return signed + Array(try! leafKey.signature(for: signed).rawRepresentation)
    }

    private static func le(_ value: Int, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
