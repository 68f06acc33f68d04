import Foundation
import TestVectors
import Testing

@testable import Attestation

/// AMD CRL handling: a real ARK-Milan CRL from AMD KDS (vendored from atakit) against the vendored
/// ARK, and that the check is demanded and fails closed; the revocation-list logic is shared with
/// Intel's (`TDXVerifierTests.revokedPCK`, `TDXCollateralRefusalTests.rootCRL`).
@Suite(.timeLimit(.minutes(1))) struct SEVSNPRevocationTests {
    @Test("with CRLs configured, a chain whose ARK has none of them is refused by crl; without, no crl check")
    func crlDemanded() throws {
        let c = snpCases[0]
        let report = try c.reportBytes()
        let evidence = Evidence(kind: .sevSNP, report: report, certificates: [try c.vekBytes()])
        let e = matchingExpectations(for: try SEVSNPReport(bytes: report))
        let intelCRL = try TestVectors.bytes("tdx/go-tdx-guest/rootcrl.der")
        let with = SEVSNPVerifier(chain: try c.chainBytes(), crls: [intelCRL])
            .verify(evidence, expectations: e, now: TestVectors.date(c.at))
        #expect(with.checks.filter { !$0.passed }.map(\.name) == ["crl"])
        #expect(with.check(named: "crl")?.detail.contains("ARK-Milan") == true)
        let without = SEVSNPVerifier(chain: try c.chainBytes()).verify(
            evidence, expectations: e, now: TestVectors.date(c.at))
        #expect(without.passed && without.check(named: "crl") == nil)
    }

    @Test("the collateral cache refuses a CRL that is not an AMD ARK's")
    func importRefusesForeignCRL() throws {
        let cache = CollateralCache(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("amd-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: cache.directory) }
        #expect(throws: AttestationError.self) {
            try cache.importAMDCRL(try TestVectors.bytes("tdx/go-tdx-guest/rootcrl.der"))
        }
        #expect(try cache.amdCRLs().isEmpty)
    }

    static let milanCRL = "sev-snp/atakit/milan.crl.der"

    @Test("AMD's ARK-Milan CRL verifies under the vendored ARK (RSA-PSS/SHA-384) inside its window, not outside")
    func realMilanCRL() throws {
        let crl = try CertificateRevocationList(derEncoded: try TestVectors.bytes(Self.milanCRL))
        #expect(crl.issuerCommonName == "ARK-Milan")
        #expect(crl.revokedSerials.isEmpty)
        #expect(crl.thisUpdate == TestVectors.date("2026-06-22T05:53:52Z"))
        #expect(crl.nextUpdate == TestVectors.date("2026-08-08T00:00:00Z"))
        let ark = try X509Certificate(
            derEncoded: try CertificateFile.derCertificates(
                from: try TestVectors.bytes("sev-snp/amd-roots/virtee-sev_milan_ark.pem"))[0])
        #expect(ark.fingerprintHex == "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd")
        #expect(crl.signatureProblem(issuedBy: ark) == nil)
        #expect(crl.validityProblem(at: TestVectors.date("2026-07-01T00:00:00Z")) == nil)
        #expect(crl.validityProblem(at: TestVectors.date("2026-06-01T00:00:00Z"))?.contains("not valid before") == true)
        #expect(crl.validityProblem(at: TestVectors.date("2026-08-09T00:00:00Z"))?.contains("stale") == true)
        var forged = try TestVectors.bytes(Self.milanCRL)
        forged[forged.count - 20] ^= 0x01
        #expect(
            try CertificateRevocationList(derEncoded: forged).signatureProblem(issuedBy: ark)?.contains(
                "does not verify")
                == true)
        let genoa = try X509Certificate(
            derEncoded: try CertificateFile.derCertificates(
                from: try TestVectors.bytes("sev-snp/amd-roots/virtee-sev_genoa_ark.pem"))[0])
        #expect(crl.signatureProblem(issuedBy: genoa)?.contains("not issued by") == true)
    }

    @Test("a Milan report passes the crl check with AMD's CRL inside its window and is refused by it after")
    func realMilanCRLInVerifier() throws {
        let c = snpCases[1]  // virtee-sev Milan: VCEK valid 2023-04-03 → 2030-04-03
        let report = try c.reportBytes()
        let evidence = Evidence(kind: .sevSNP, report: report, certificates: [try c.vekBytes()])
        let e = matchingExpectations(for: try SEVSNPReport(bytes: report))
        let verifier = SEVSNPVerifier(chain: try c.chainBytes(), crls: [try TestVectors.bytes(Self.milanCRL)])
        let inside = verifier.verify(evidence, expectations: e, now: TestVectors.date("2026-07-01T00:00:00Z"))
        #expect(inside.passed, "\(inside.renderedText())")
        #expect(inside.check(named: "crl")?.passed == true)
        let stale = verifier.verify(evidence, expectations: e, now: TestVectors.date("2026-09-01T00:00:00Z"))
        #expect(stale.checks.filter { !$0.passed }.map(\.name) == ["crl"], "\(stale.renderedText())")
        #expect(stale.check(named: "crl")?.detail.contains("stale") == true)

        let cache = CollateralCache(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("amd-\(UUID().uuidString)"))
        defer { try? FileManager.default.removeItem(at: cache.directory) }
        let stored = try cache.importAMDCRL(try TestVectors.bytes(Self.milanCRL))
        #expect(stored.file == "amd-ARK-Milan.crl")
        #expect(try cache.amdCRLs() == [try TestVectors.bytes(Self.milanCRL)])
    }
}
