import Foundation
import TestVectors
import Testing

@testable import Attestation

/// AMD CRL handling. No AMD CRL is among the public vectors, so these show the check is demanded
/// and fails closed; the list logic is shared with Intel's (`TDXVerifierTests.revokedPCK`).
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
}
