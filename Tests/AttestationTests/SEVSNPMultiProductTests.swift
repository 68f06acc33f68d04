import Foundation
import TestVectors
import Testing

@testable import Attestation

@Suite(.timeLimit(.minutes(1)))
struct SEVSNPMultiProductTests {
    @Test func oneVerifierHoldingEveryProductsChainVerifiesEachReport() throws {
        // Turin first, so picking "the first pinned root" would be wrong for every report here.
        let chain = try ["turin", "genoa", "milan"].flatMap {
            try CertificateFile.derCertificates(
                from: try TestVectors.bytes("sev-snp/amd-roots/trustee_\($0)_ask_ark_asvk.pem"))
        }
        let verifier = SEVSNPVerifier(chain: chain)
        for c in snpCases {
            let report = try c.reportBytes()
            let result = verifier.verify(
                Evidence(kind: .sevSNP, report: report, certificates: [try c.vekBytes()]),
                expectations: matchingExpectations(for: try SEVSNPReport(bytes: report)), now: TestVectors.date(c.at))
            #expect(result.passed, "\(c.report): \(String(describing: result.failedCheck))")
        }
    }
}
