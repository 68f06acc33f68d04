import Foundation
import Sodium
import Testing

@testable import Attestation

/// The collateral checks no public vector can refuse (`root-crl`, `fmspc`, `qe-tcb`, `tdx-module`):
/// a throwaway Intel-like hierarchy signs a quote and collateral, the well-formed set is accepted,
/// then one fact at a time is changed and the named check refuses.
@Suite(.timeLimit(.minutes(1))) struct TDXCollateralRefusalTests {
    let platform = TestTDXPlatform()

    func verify(_ facts: TestTDXPlatform.Facts) throws -> VerificationResult {
        let quote = platform.quote(facts)
        return platform.verifier(platform.collateral(facts)).verify(
            Evidence(kind: .tdx, report: quote),
            expectations: try TDXVerifierTests.matching(quote, policy: nil), now: TestTDXPlatform.now)
    }

    func failed(_ result: VerificationResult) -> [String] { TDXVerifierTests.failed(result) }

    @Test("the well-formed quote and collateral from the test hierarchy are accepted, UpToDate")
    func wellFormedAccepted() throws {
        let result = try verify(.init())
        #expect(result.passed, "\(result.renderedText())")
        for name in ["root-crl", "pck-crl", "tcb-info", "qe-identity", "fmspc", "qe-tcb", "tdx-module"] {
            #expect(result.check(named: name)?.passed == true, "\(name)")
        }
        #expect(result.check(named: "tcb-status")?.detail.contains("UpToDate") == true)
        // The same quote and collateral under the pinned Intel root: nothing chains.
        let facts = TestTDXPlatform.Facts()
        let pinned = TDXVerifier(collateral: [platform.collateral(facts)]).verify(
            Evidence(kind: .tdx, report: platform.quote(facts)),
            expectations: try TDXVerifierTests.matching(platform.quote(facts), policy: nil), now: TestTDXPlatform.now)
        #expect(pinned.check(named: "pck-chain")?.passed == false)
        #expect(pinned.check(named: "root-crl")?.passed == false)
    }

    @Test("root-crl refuses a root CA CRL that revokes the PCK CA, and one the root did not sign")
    func rootCRL() throws {
        var revoking = TestTDXPlatform.Facts()
        revoking.rootCRLRevokes = [TestTDXPlatform.pckCASerial]
        let revoked = try verify(revoking)
        #expect(revoked.check(named: "root-crl")?.passed == false)
        #expect(revoked.check(named: "root-crl")?.detail.contains("revoked by the root CA") == true)
        // The revoked CA also issued the PCK CRL, so that CRL's issuer chain fails with it.
        #expect(failed(revoked) == ["root-crl", "pck-crl"], "\(revoked.renderedText())")

        // Another serial on the list revokes nothing of this platform.
        var other = TestTDXPlatform.Facts()
        other.rootCRLRevokes = [[0x7f, 0x7f]]
        #expect(try verify(other).passed)

        var forged = TestTDXPlatform.Facts()
        forged.rootCRLSigner = TestAuthority.root("Test SGX Root CA")
        let unsigned = try verify(forged)
        #expect(failed(unsigned) == ["root-crl"], "\(unsigned.renderedText())")
        #expect(unsigned.check(named: "root-crl")?.detail.contains("signature does not verify") == true)
    }

    @Test("fmspc refuses a TCB Info whose PCE-ID or FMSPC is not the PCK certificate's")
    func fmspc() throws {
        var pce = TestTDXPlatform.Facts()
        pce.tcbInfoPCEID = "0100"
        let result = try verify(pce)
        #expect(failed(result) == ["fmspc"], "\(result.renderedText())")
        #expect(result.check(named: "fmspc")?.detail.contains("PCE-ID") == true)

        // Collateral is chosen by FMSPC, so TCB Info for another FMSPC is never picked: the
        // verifier refuses by `collateral`. The `fmspc` check behind it still refuses it when the
        // evaluation is handed that TCB Info directly.
        var facts = TestTDXPlatform.Facts()
        facts.tcbInfoFMSPC = "00906ed50001"
        #expect(failed(try verify(facts)) == ["collateral"])
        let quote = try TDXQuote(bytes: platform.quote(facts))
        let chain = PCKChain(
            der: quote.pckChain, now: TestTDXPlatform.now,
            root: try X509Certificate(derEncoded: platform.root.certificate))
        let evaluation = CollateralEvaluation(
            quote: quote, qeReport: SGXReportBody(bytes: quote.qeReport), chain: chain,
            pck: try PCKExtensions(certificate: try #require(chain.leaf)), collateral: platform.collateral(facts),
            policy: TDXPolicy(), now: TestTDXPlatform.now,
            root: try X509Certificate(derEncoded: platform.root.certificate))
        let checks = evaluation.checks()
        #expect(checks.filter { !$0.passed }.map(\.name) == ["fmspc"])
        #expect(checks.first { $0.name == "fmspc" }?.detail.contains("FMSPC 00906ed50001 differs") == true)
    }

    @Test("qe-tcb refuses a QE whose ISV SVN has no level or a Revoked one; OutOfDate is tcb-status's")
    func qeTCB() throws {
        var below = TestTDXPlatform.Facts()
        below.qeISVSVN = 1
        let none = try verify(below)
        #expect(failed(none) == ["qe-tcb"], "\(none.renderedText())")
        #expect(none.check(named: "qe-tcb")?.detail.contains("no QE Identity TCB level for ISV SVN 1") == true)

        var revokedFacts = TestTDXPlatform.Facts()
        revokedFacts.qeISVSVN = 2
        let revoked = try verify(revokedFacts)
        #expect(failed(revoked) == ["qe-tcb", "tcb-status"], "\(revoked.renderedText())")
        #expect(revoked.check(named: "qe-tcb")?.detail.contains("revoked") == true)

        // An OutOfDate QE is a TCB status, as in Intel's library: qe-tcb passes and names it, the
        // converged status refuses with the QE level's advisory.
        var outdatedFacts = TestTDXPlatform.Facts()
        outdatedFacts.qeISVSVN = 3
        let outdated = try verify(outdatedFacts)
        #expect(failed(outdated) == ["tcb-status"], "\(outdated.renderedText())")
        #expect(outdated.check(named: "qe-tcb")?.detail.contains("OutOfDate") == true)
        #expect(outdated.check(named: "tcb-status")?.detail.contains("OutOfDate") == true)
        #expect(outdated.check(named: "tcb-status")?.detail.contains("INTEL-SA-00002") == true)
    }

    @Test("tdx-module refuses a TDX module SVN below every level of its identity, or a Revoked one")
    func tdxModule() throws {
        var below = TestTDXPlatform.Facts()
        below.moduleSVN = 1
        let none = try verify(below)
        #expect(failed(none) == ["tdx-module"], "\(none.renderedText())")
        #expect(none.check(named: "tdx-module")?.detail.contains("no level of TDX module identity TDX_01") == true)

        var revokedFacts = TestTDXPlatform.Facts()
        revokedFacts.moduleSVN = 2
        let revoked = try verify(revokedFacts)
        #expect(failed(revoked) == ["tdx-module", "tcb-status"], "\(revoked.renderedText())")
        #expect(revoked.check(named: "tdx-module")?.detail.contains("revoked") == true)
    }
}
