import Foundation
import Sodium
import TestVectors
import Testing

@testable import Attestation

/// The TDX vectors of Tests/Fixtures/vectors/tdx at the times their README names.
@Suite(.timeLimit(.minutes(2))) struct TDXVerifierTests {
    struct Quote: Sendable, CustomTestStringConvertible {
        let file: String
        let at: String
        var testDescription: String { file }
    }

    static let quotes: [Quote] = [
        Quote(file: "go-tdx-guest/tdx_prod_quote_SPR_E4.dat", at: "2023-07-01T01:00:00Z"),
        Quote(file: "go-tdx-guest/quote_v5_sample.dat", at: "2026-02-03T01:00:00Z"),
        Quote(file: "go-tdx-guest/cos-113-tdx-quote.dat", at: "2025-01-01T00:00:00Z"),
        Quote(file: "trustee/tdx_quote_4.dat", at: "2024-01-01T00:00:00Z"),
        Quote(file: "trustee/tdx_quote_5.dat", at: "2025-10-28T00:00:00Z"),
        Quote(file: "trustee/tdx_quote_6.dat", at: "2025-10-28T00:00:00Z"),
        Quote(file: "dcap-qvl/tdx_quote", at: "2025-07-19T10:00:34Z"),
        Quote(file: "dcap-qvl/tdx_quote_outdated", at: "2026-02-20T00:00:00Z"),
    ]
    static let dcapTime = TestVectors.date("2025-07-19T10:00:34Z")

    /// Expectations that match `quote`'s own body, so only the named check can fail.
    static func matching(_ bytes: [UInt8], policy: TDXPolicy? = TDXPolicy(allowMissingCollateral: true))
        throws -> Expectations
    {
        let quote = try TDXQuote(bytes: bytes)
        return Expectations(
            reportData: quote.body.reportData,
            policy: EvidencePolicy(measurements: [Hex.encode(quote.body.mrTD)], allowDebug: true, tdx: policy),
            measurements: [quote.body.mrTD])
    }

    static func verify(
        _ bytes: [UInt8], at: Date, collateral: [TDXCollateral] = [], expectations: Expectations? = nil
    ) throws -> VerificationResult {
        let e = try expectations ?? matching(bytes)
        return TDXVerifier(collateral: collateral).verify(Evidence(kind: .tdx, report: bytes), expectations: e, now: at)
    }

    static func failed(_ result: VerificationResult) -> [String] { result.checks.filter { !$0.passed }.map(\.name) }

    @Test("every vendored quote verifies (signatures, QE binding, PCK chain) at its time", arguments: quotes)
    func vectorsVerify(_ q: Quote) throws {
        let result = try Self.verify(try TestVectors.bytes("tdx/" + q.file), at: TestVectors.date(q.at))
        #expect(result.passed, "\(Self.failed(result)): \(result.renderedText())")
    }

    @Test("body fields decode as expected.json lists them")
    func fieldsMatchExpected() throws {
        let json = try #require(try TestVectors.json("tdx/expected.json") as? [String: Any])
        for entry in try #require(json["quotes"] as? [[String: Any]]) {
            let file = try #require(entry["file"] as? String)
            let body = try #require(entry["body"] as? [String: String])
            let quote = try TDXQuote(bytes: try TestVectors.bytes("tdx/" + file))
            #expect(Hex.encode(quote.body.mrTD) == body["mr_td"], "\(file)")
            #expect(Hex.encode(quote.body.reportData) == body["report_data"], "\(file)")
            #expect(Hex.encode(quote.body.tdAttributes) == body["td_attributes"], "\(file)")
            #expect(Int(quote.version) == entry["version"] as? Int, "\(file)")
            #expect(quote.trailingByteCount == entry["trailing_bytes_after_signature_data"] as? Int, "\(file)")
        }
    }

    @Test("dcap-qvl's quote with full collateral is UpToDate at its time, with no advisories")
    func dcapCollateralUpToDate() throws {
        let collateral = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        let result = try Self.verify(
            quote, at: Self.dcapTime, collateral: [collateral], expectations: Self.matching(quote, policy: nil))
        #expect(result.passed, "\(result.renderedText())")
        #expect(result.check(named: "tcb-status")?.detail.contains("UpToDate") == true)
        #expect(result.check(named: "tcb-status")?.detail.contains("no advisories") == true)
    }

    @Test("the outdated quote with its collateral is refused by tcb-status alone")
    func outdatedQuoteRefusedByTCBStatus() throws {
        let collateral = try TDXCollateral(
            json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_outdated_collateral.json"))
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_outdated")
        // Its collateral was issued 2026-02-18; the README names no time, so one inside that window.
        let at = TestVectors.date("2026-02-20T00:00:00Z")
        let refused = try Self.verify(
            quote, at: at, collateral: [collateral], expectations: Self.matching(quote, policy: nil))
        #expect(Self.failed(refused) == ["tcb-status"], "\(refused.renderedText())")
        // dcap-qvl asserts no plain status for this quote. Its PCK's SGX component 8 (SEAMLDR ACM
        // SVN 3) is below every level's (5), so no TCB level matches at all: refused, as Intel's
        // library refuses an unrecognised TCB.
        #expect(refused.check(named: "tcb-status")?.detail.contains("no TCB level") == true)
    }

    @Test("without collateral the quote is refused by name unless the policy allows it")
    func missingCollateralFailsClosed() throws {
        let quote = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        let result = try Self.verify(
            quote, at: TestVectors.date("2023-07-01T01:00:00Z"), expectations: Self.matching(quote, policy: nil))
        #expect(Self.failed(result) == ["collateral"])
    }

    @Test("stale collateral is refused: past a CRL's nextUpdate, and beyond the policy's maximum age")
    func staleCollateral() throws {
        let collateral = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        let late = try Self.verify(
            quote, at: TestVectors.date("2025-07-19T10:00:36Z"), collateral: [collateral],
            expectations: Self.matching(quote, policy: nil))
        #expect(Self.failed(late).contains("pck-crl"))
        let late2 = try Self.verify(
            quote, at: TestVectors.date("2025-08-01T00:00:00Z"), collateral: [collateral],
            expectations: Self.matching(quote, policy: nil))
        #expect(Set(Self.failed(late2)).isSuperset(of: ["pck-crl", "tcb-info", "qe-identity"]))
        let aged = try Self.verify(
            quote, at: Self.dcapTime, collateral: [collateral],
            expectations: Self.matching(quote, policy: TDXPolicy(maximumCollateralAge: 3600)))
        #expect(Self.failed(aged) == ["collateral-age"])
    }

    @Test("collateral whose signed JSON is altered, or for another FMSPC, is refused by name")
    func alteredCollateral() throws {
        let good = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        var tcb = good
        tcb.tcbInfo = Array(
            String(decoding: good.tcbInfo, as: UTF8.self)
                .replacingOccurrences(of: "\"pcesvn\":11", with: "\"pcesvn\":10").utf8)
        let tcbResult = try Self.verify(
            quote, at: Self.dcapTime, collateral: [tcb], expectations: Self.matching(quote, policy: nil))
        #expect(Self.failed(tcbResult).contains("tcb-info"))
        var qe = good
        qe.qeIdentitySignature[5] ^= 1
        let qeResult = try Self.verify(
            quote, at: Self.dcapTime, collateral: [qe], expectations: Self.matching(quote, policy: nil))
        #expect(Self.failed(qeResult) == ["qe-identity"])
        var crl = good
        crl.pckCRL[crl.pckCRL.count - 10] ^= 1
        let crlResult = try Self.verify(
            quote, at: Self.dcapTime, collateral: [crl], expectations: Self.matching(quote, policy: nil))
        #expect(Self.failed(crlResult) == ["pck-crl"])
        // Collateral of another platform is not used at all.
        let other = try TDXCollateral(
            json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_outdated_collateral.json"))
        let otherResult = try Self.verify(
            quote, at: Self.dcapTime, collateral: [other], expectations: Self.matching(quote, policy: nil))
        #expect(Self.failed(otherResult) == ["collateral"])
    }

    @Test("go-tdx-guest's collateral from Intel PCS responses verifies at 2023-07-01 and has expired by 2053")
    func pcsResponses() throws {
        let collateral = try TDXCollateral(
            tcbInfoResponse: try TestVectors.bytes("tdx/go-tdx-guest/sample_tcbInfo_response"),
            qeIdentityResponse: try TestVectors.bytes("tdx/go-tdx-guest/sample_qeIdentity_response"),
            tcbIssuerChain: try TestVectors.text("tdx/go-tdx-guest/tcbinfo_issuer_chain.pem"),
            pckCRL: try TestVectors.bytes("tdx/go-tdx-guest/pckcrl"),
            pckCRLIssuerChain: try TestVectors.text("tdx/go-tdx-guest/pckcrl_issuer_chain.pem"),
            rootCACRL: try TestVectors.bytes("tdx/go-tdx-guest/rootcrl.der"))
        let quote = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        let result = try Self.verify(
            quote, at: TestVectors.date("2023-07-01T01:00:00Z"), collateral: [collateral],
            expectations: Self.matching(
                quote, policy: TDXPolicy(acceptedTCBStatuses: ["OutOfDate", "SWHardeningNeeded"])))
        for name in ["root-crl", "pck-crl", "tcb-info", "qe-identity", "fmspc", "qe-tcb", "tdx-module"] {
            #expect(result.check(named: name)?.passed == true, "\(name): \(result.renderedText())")
        }
        let expired = try Self.verify(
            quote, at: TestVectors.date("2053-07-01T00:00:00Z"), collateral: [collateral],
            expectations: Self.matching(quote, policy: nil))
        #expect(expired.check(named: "tcb-info")?.passed == false)
        #expect(expired.check(named: "pck-chain")?.passed == false)
    }

    @Test("an expired PCK certificate is refused by pck-chain")
    func expiredPCK() throws {
        let result = try Self.verify(
            try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat"),
            at: TestVectors.date("2053-07-01T00:00:00Z"))
        #expect(Self.failed(result) == ["pck-chain"])
    }

    @Test("a debug TD is refused by the debug check unless the policy allows debugging")
    func debugTD() throws {
        let quote = try TestVectors.bytes("trustee/tdx_quote_4.dat".prefixed)
        var e = try Self.matching(quote)
        e.policy.allowDebug = false
        let result = try Self.verify(quote, at: TestVectors.date("2024-01-01T00:00:00Z"), expectations: e)
        #expect(Self.failed(result) == ["debug"])
    }

    @Test(
        "go-tdx-guest's byte mutations are refused",
        arguments: [
            (0x00, 3), (0x278, 0x10), (0x1343, 0x32), (0x1329, 0x32), (0xF5F, 0x32), (0xB77, 0x32), (0x1E, 0x32),
            (0x3C, 0x32),
        ])
    func goTDXGuestMutations(_ mutation: (Int, UInt8)) throws {
        var quote = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        let e = try Self.matching(quote)
        quote[mutation.0] = mutation.1
        let result = try Self.verify(quote, at: TestVectors.date("2023-07-01T01:00:00Z"), expectations: e)
        #expect(!result.passed)
    }

    @Test("a flipped bit in every signed region is refused by the check that covers it")
    func flipsInSignedRegions() throws {
        let original = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        let parsed = try TDXQuote(bytes: original)
        let e = try Self.matching(original)
        let at = Self.dcapTime
        let sigStart = parsed.signedBytes.count + 4
        let qeReportStart = sigStart + 64 + 64 + 6
        let authStart = qeReportStart + 384 + 64 + 2
        let regions: [(String, Int, String)] = [
            ("header", 0x10, "quote-signature"),
            ("body MRTD", 48 + 136, "quote-signature"),
            ("body report data", 48 + 520, "quote-signature"),
            ("quote signature", sigStart + 5, "quote-signature"),
            ("attestation key", sigStart + 64 + 5, "qe-report-data"),
            ("QE report", qeReportStart + 64, "qe-report-signature"),
            ("QE report signature", qeReportStart + 384 + 3, "qe-report-signature"),
            ("QE auth data", authStart, "qe-report-data"),
        ]
        for (name, offset, check) in regions {
            var bytes = original
            bytes[offset] ^= 0x01
            let result = try Self.verify(bytes, at: at, expectations: e)
            #expect(result.check(named: check)?.passed == false, "\(name): \(Self.failed(result))")
        }
    }

    @Test("truncated quotes and a swapped PCK chain are refused")
    func truncationAndSwappedChain() throws {
        let original = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        let parsed = try TDXQuote(bytes: original)
        let e = try Self.matching(original)
        let at = TestVectors.date("2023-07-01T01:00:00Z")
        let signed = parsed.signedBytes.count
        for length in [0, 10, 47, 48, 300, signed, signed + 4, signed + 100, original.count - 39 - 1] {
            let result = try Self.verify(Array(original.prefix(length)), at: at, expectations: e)
            #expect(Self.failed(result) == ["quote-format"], "length \(length)")
        }
        // Another quote's (valid, Intel-signed) PCK chain in place of this one's.
        let other = try TDXQuote(bytes: try TestVectors.bytes("tdx/trustee/tdx_quote_4.dat"))
        let pem = try #require(String(bytes: original, encoding: .isoLatin1))
        let first = try #require(pem.range(of: "-----BEGIN CERTIFICATE-----"))
        let prefix = Array(original[0..<pem.distance(from: pem.startIndex, to: first.lowerBound)])
        let chainText = other.pckChain.map {
            "-----BEGIN CERTIFICATE-----\n" + Data($0).base64EncodedString(options: .lineLength64Characters)
                + "\n-----END CERTIFICATE-----\n"
        }.joined()
        var swapped = prefix + Array(chainText.utf8)
        // Fix both certification-data sizes so only the chain differs.
        let innerSize = UInt32(chainText.utf8.count)
        let innerSizeOffset = prefix.count - 4
        for i in 0..<4 { swapped[innerSizeOffset + i] = UInt8(truncatingIfNeeded: innerSize >> (8 * UInt32(i))) }
        let outerSizeOffset = signed + 4 + 128 + 2
        let outerSize = UInt32(swapped.count - outerSizeOffset - 4)
        for i in 0..<4 { swapped[outerSizeOffset + i] = UInt8(truncatingIfNeeded: outerSize >> (8 * UInt32(i))) }
        let dataSize = UInt32(swapped.count - signed - 4)
        for i in 0..<4 { swapped[signed + i] = UInt8(truncatingIfNeeded: dataSize >> (8 * UInt32(i))) }
        let result = try Self.verify(swapped, at: at, expectations: e)
        #expect(result.check(named: "quote-format")?.passed == true)
        #expect(result.check(named: "pck-chain")?.passed == true)
        #expect(result.check(named: "qe-report-signature")?.passed == false)
    }

    @Test("a revoked PCK (its serial on the CRL) fails the chain check")
    func revokedPCK() throws {
        let quote = try TDXQuote(bytes: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote"))
        let collateral = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        var crl = try CertificateRevocationList(derEncoded: collateral.pckCRL)
        #expect(crl.revokedSerials.count == 44)
        #expect(
            crl.signatureProblem(issuedBy: try #require(PCKChain(der: quote.pckChain, now: Self.dcapTime).intermediate))
                == nil)
        let leaf = try X509Certificate(derEncoded: quote.pckChain[0])
        #expect(!crl.revokes(leaf))
        crl.revokedSerials.insert(leaf.serialNumber)
        let chain = PCKChain(der: quote.pckChain, now: Self.dcapTime, crls: [crl])
        #expect(chain.problem?.contains("revoked") == true)
    }

    @Test("RTMR, MRCONFIGID and MRSEAM constraints pass on the quote's values and refuse others by name")
    func measurementRegisters() throws {
        let quote = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        let body = try TDXQuote(bytes: quote).body
        let at = TestVectors.date("2023-07-01T01:00:00Z")
        let good = TDXPolicy(
            rtmrs: body.rtmrs.map { Hex.encode($0) }, mrConfigID: Hex.encode(body.mrConfigID),
            mrSEAMs: [Hex.encode(body.mrSEAM)], allowMissingCollateral: true)
        #expect(try Self.verify(quote, at: at, expectations: Self.matching(quote, policy: good)).passed)
        let zero = String(repeating: "00", count: 48)
        var rtmr = good
        rtmr.rtmrs = [nil, zero]
        #expect(
            Self.failed(try Self.verify(quote, at: at, expectations: Self.matching(quote, policy: rtmr))) == ["rtmr"])
        var config = good
        config.mrConfigID = String(repeating: "11", count: 48)
        #expect(
            Self.failed(try Self.verify(quote, at: at, expectations: Self.matching(quote, policy: config)))
                == ["mr-config-id"])
        var seam = good
        seam.mrSEAMs = [zero]
        #expect(
            Self.failed(try Self.verify(quote, at: at, expectations: Self.matching(quote, policy: seam))) == ["mr-seam"]
        )
        var e = try Self.matching(quote, policy: good)
        e.measurements = [Array(repeating: 0, count: 48)]
        #expect(Self.failed(try Self.verify(quote, at: at, expectations: e)) == ["measurement"])
    }

    @Test("configuration binding: a zero MRCONFIGID is reported unbound, another role's digest is refused")
    func configurationBinding() throws {
        let quote = try TestVectors.bytes("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
        let at = TestVectors.date("2023-07-01T01:00:00Z")
        let digest = ConfigurationBinding.digest(configuration: Array("shard-0 of minilm".utf8))
        var e = try Self.matching(quote)
        e.configurationDigest = digest
        let unbound = try Self.verify(quote, at: at, expectations: e)
        #expect(unbound.passed)
        #expect(unbound.check(named: "configuration-binding")?.detail.contains("without") == true)
        // MRCONFIGID sits at body offset 184: set it to this digest, then to another role's.
        var bound = quote
        bound.replaceSubrange((48 + 184)..<(48 + 232), with: digest)
        #expect(try Self.verify(bound, at: at, expectations: e).check(named: "configuration-binding")?.passed == true)
        let other = ConfigurationBinding.digest(configuration: Array("shard-1 of minilm".utf8))
        bound.replaceSubrange((48 + 184)..<(48 + 232), with: other)
        #expect(try Self.verify(bound, at: at, expectations: e).check(named: "configuration-binding")?.passed == false)
    }

    @Test("trailing text after the PEM chain other than NUL or whitespace is refused")
    func pemTrailer() throws {
        let pem = Array("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".utf8)
        #expect(try TDXQuote.pemChain(pem + [0]).count == 1)
        #expect(throws: AttestationError.self) { try TDXQuote.pemChain(pem + Array("junk".utf8)) }
        #expect(throws: AttestationError.self) { try TDXQuote.pemChain(Array("junk".utf8) + pem) }
    }

    /// The `tdx-quote` fuzz target's round-trip check failed on this (a hand-made input): a PEM CRL
    /// block with nothing in it was imported as an empty CRL, which the stored form (hex) cannot carry.
    @Test("collateral whose CRL is an empty PEM block is refused; what imports reads back from its stored form")
    func emptyCRLRefused() throws {
        let original = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json")
        let collateral = try TDXCollateral(json: original)
        #expect(try TDXCollateral(json: collateral.json()) == collateral)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(original)) as? [String: Any])
        for field in ["root_ca_crl", "pck_crl"] {
            var edited = object
            edited[field] = "-----BEGIN X509 CRL-----\n-----END X509 CRL-----\n"
            let json = [UInt8](try JSONSerialization.data(withJSONObject: edited))
            #expect(throws: AttestationError.self, "\(field)") { try TDXCollateral(json: json) }
        }
        object["root_ca_crl"] =
            "-----BEGIN X509 CRL-----\n" + Data(collateral.rootCACRL).base64EncodedString()
            + "\n-----END X509 CRL-----\n"
        let pem = try TDXCollateral(json: [UInt8](try JSONSerialization.data(withJSONObject: object)))
        #expect(pem.rootCACRL == collateral.rootCACRL)
        #expect(try TDXCollateral(json: pem.json()) == pem)
    }
}

extension String {
    fileprivate var prefixed: String { "tdx/" + self }
}
