import Crypto
import Foundation
import Sodium

@testable import Attestation

/// An Intel TDX quote as a node sends it, its PEM PCK chain, and the DCAP collateral the broker
/// imports (the dcap-qvl JSON layout and Intel PCS responses), through to the verifier's verdict.
///
/// Input: `FuzzInput.frames` — the quote, then optionally the collateral JSON, then optionally a
/// TCB Info response and a QE Identity response; bits 3–5 of the first byte pick the verification
/// time (the times at which the vendored quotes verify, see `times`), and bit 6 skips the
/// verifier (decoders only: many more inputs a second, since verifying costs a chain check).
///
/// What must hold: nothing crashes; a decoded quote encodes back to the very bytes it was read
/// from (up to its tolerated trailer and PEM layout); a PEM chain re-encoded canonically decodes
/// to the same certificates; collateral survives its own storage form; the verifier always
/// reaches a verdict with every check named; and it accepts only quotes whose signed bytes are
/// those of a genuine vendored quote (forging one would need Intel's keys).
private let times = [
    "2023-07-01T01:00:00Z", "2026-02-03T01:00:00Z", "2025-01-01T00:00:00Z", "2024-01-01T00:00:00Z",
    "2025-10-28T00:00:00Z", "2025-10-28T00:00:00Z", "2025-07-19T10:00:34Z", "2026-02-20T00:00:00Z",
].map { try! Date($0, strategy: .iso8601) }

/// SHA-256 of the signed bytes (header and body) of each quote under Tests/Fixtures/vectors/tdx.
private let genuine: Set<String> = [
    "56090e895018bcfe06653bdebeee5cff29e64fadd57f3d3bcc4aa7937b06b32e",  // go-tdx-guest SPR E4
    "21a37a057283ba2b3bed72fb6aabaf8f0f510fd153c44936300bb83a989c2ff2",  // go-tdx-guest v5 sample
    "ebe41a4a8097b348a9de11501d61465d5272368a1397fd881d30ddd8b063d785",  // go-tdx-guest COS 113
    "2ee09e6c210767c809a054c106a11f62a70bb0b0a07f942b089230ad3726e2a8",  // trustee 4 (debug TD)
    "c2874ba05bd903acf23b28184000ea46a0ffa09b33208be623fbefe492fea6cd",  // trustee 5
    "4c8ec6fdbcd57d2ce1c89926000f60e0b83bff4b51605237bb79398a65877800",  // trustee 6
    "263b491bb14d627cc0d13408888dbe1ef550b7b8265794702303300bc388ef17",  // dcap-qvl
    "00313b766d007be6efcbbd31ef497cbc3dae1662e1e0fca946bd1fe1abd2bb21",  // dcap-qvl outdated
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    let frames = FuzzInput.frames(bytes)
    guard let quoteBytes = frames.first else { return 0 }
    let now = times[Int(bytes[0] >> 3) % times.count]

    let quote = try? TDXQuote(bytes: quoteBytes)
    if let quote { checkEncoding(quote, of: quoteBytes) }
    if let chain = try? TDXQuote.pemChain(quoteBytes) { checkPEMRoundTrip(chain) }

    var collateral: [TDXCollateral] = []
    if frames.count > 1, let imported = try? TDXCollateral(json: frames[1]) {
        // What `collateral import` stores must read back as the same collateral.
        let stored = try? TDXCollateral(json: imported.json())
        precondition(stored == imported, "collateral did not survive its stored form")
        collateral.append(imported)
    }
    if frames.count > 3,
        let fromPCS = try? TDXCollateral(
            tcbInfoResponse: frames[2], qeIdentityResponse: frames[3], tcbIssuerChain: "", pckCRL: [],
            pckCRLIssuerChain: "", rootCACRL: [])
    {
        precondition(isSubsequence(fromPCS.tcbInfo, of: frames[2]), "TCB Info is not the response's own bytes")
        precondition(isSubsequence(fromPCS.qeIdentity, of: frames[3]), "QE Identity is not the response's own bytes")
        collateral.append(fromPCS)
    }

    guard bytes[0] & 0x40 == 0 else { return 0 }
    // Expectations taken from the quote's own body, so only authenticity and collateral decide.
    let expectations = Expectations(
        reportData: quote?.body.reportData ?? [],
        policy: EvidencePolicy(
            measurements: quote.map { [Hex.encode($0.body.mrTD)] } ?? [], allowDebug: true,
            tdx: TDXPolicy(
                acceptedTCBStatuses: ["SWHardeningNeeded", "OutOfDate"], allowMissingCollateral: collateral.isEmpty)),
        measurements: quote.map { [$0.body.mrTD] } ?? [])
    let result = TDXVerifier(collateral: collateral).verify(
        Evidence(kind: .tdx, report: quoteBytes), expectations: expectations, now: now)
    let format = result.check(named: TDXVerifier.CheckName.quoteFormat)
    precondition(format?.passed == (quote != nil), "the format verdict disagrees with the decoder")
    if let quote {
        for name in [
            TDXVerifier.CheckName.qeVendor, TDXVerifier.CheckName.pckChain, TDXVerifier.CheckName.qeReportSignature,
            TDXVerifier.CheckName.qeReportData, TDXVerifier.CheckName.quoteSignature,
            TDXVerifier.CheckName.collateral, TDXVerifier.CheckName.reportData, TDXVerifier.CheckName.measurement,
        ] {
            precondition(result.check(named: name) != nil, "no verdict on \(name)")
        }
        if result.passed {
            let digest = Hex.encode(SHA256.hash(data: quote.signedBytes))
            precondition(genuine.contains(digest), "a quote that is not a vendored genuine one was accepted")
        }
    } else {
        precondition(!result.passed, "an undecodable quote was accepted")
    }
    return 0
}

/// The quote's fields, laid out again, are the bytes it was decoded from.
private func checkEncoding(_ quote: TDXQuote, of bytes: [UInt8]) {
    func u16(_ value: Int) -> [UInt8] { [UInt8(value & 0xff), UInt8(value >> 8 & 0xff)] }
    func u32(_ value: Int) -> [UInt8] { u16(value & 0xffff) + u16(value >> 16) }
    let body = quote.body
    var bodyBytes =
        body.teeTCBSVN + body.mrSEAM + body.mrSignerSEAM + body.seamAttributes + body.tdAttributes + body.xfam
        + body.mrTD + body.mrConfigID + body.mrOwner + body.mrOwnerConfig + body.rtmrs.joined() + body.reportData
    if let svn2 = body.teeTCBSVN2, let serviceTD = body.mrServiceTD { bodyBytes += svn2 + serviceTD }
    let signed = quote.signedBytes
    precondition(Array(bytes.prefix(signed.count)) == signed, "signed bytes are not the quote's prefix")
    precondition(Array(signed.suffix(bodyBytes.count)) == bodyBytes, "body fields do not re-encode to the body")
    precondition(
        signed.count == TDXQuote.headerSize + (quote.version == 5 ? 6 : 0) + bodyBytes.count, "header size")

    let signatureEnd = bytes.count - quote.trailingByteCount
    let signatureSize = signatureEnd - signed.count - 4
    let fixed =
        quote.quoteSignature + quote.attestationKey + u16(6) + u32(signatureSize - 134) + quote.qeReport
        + quote.qeReportSignature + u16(quote.qeAuthData.count) + quote.qeAuthData + u16(5)
    let pemSize = signatureSize - fixed.count - 4
    precondition(pemSize > 0, "the signature data leaves no room for the PCK chain")
    let encoded = signed + u32(signatureSize) + fixed + u32(pemSize)
    precondition(Array(bytes.prefix(encoded.count)) == encoded, "fields do not re-encode to the quote")
    let pem = Array(bytes[encoded.count..<signatureEnd])
    precondition((try? TDXQuote.pemChain(pem)) == quote.pckChain, "the PCK chain reads differently alone")
}

/// DER certificates written as canonical PEM read back as the same certificates.
private func checkPEMRoundTrip(_ chain: [[UInt8]]) {
    let text = chain.map {
        "-----BEGIN CERTIFICATE-----\n" + Data($0).base64EncodedString(options: .lineLength64Characters)
            + "\n-----END CERTIFICATE-----\n"
    }.joined()
    precondition((try? TDXQuote.pemChain(Array(text.utf8))) == chain, "PEM chain did not round-trip")
    precondition((try? CertificateFile.derCertificates(from: Array(text.utf8))) == chain, "certificate file differs")
}

private func isSubsequence(_ part: [UInt8], of whole: [UInt8]) -> Bool {
    guard part.count <= whole.count else { return false }
    if part.isEmpty { return true }
    return (0...(whole.count - part.count)).contains { whole[$0..<$0 + part.count].elementsEqual(part) }
}
