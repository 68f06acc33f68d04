import Foundation
import TestVectors
import Testing

@testable import Attestation

@Suite(.timeLimit(.minutes(1)))
struct AMDCertificateEncodingTests {
    static let saltAndTrailer: [UInt8] = [0xA2, 0x03, 0x02, 0x01, 0x30, 0xA3, 0x03, 0x02, 0x01, 0x01]

    @Test func pssParametersWithAndWithoutTheTrailerFieldBothVerify() throws {
        let withTrailer = try TestVectors.bytes("sev-snp/trustee/test-vcek.der")
        let withoutTrailer = try TestVectors.bytes("sev-snp/trustee/test-vlek.der")
        #expect(withTrailer.firstRange(of: Self.saltAndTrailer) != nil)
        #expect(withoutTrailer.firstRange(of: Self.saltAndTrailer) == nil)
        let chain = try CertificateFile.derCertificates(
            from: try TestVectors.bytes("sev-snp/amd-roots/trustee_milan_ask_ark_asvk.pem")
        ).map { try X509Certificate(derEncoded: $0) }
        let expected = X509Certificate.PSSParameters(
            hash: X509Certificate.sha384, maskGeneration: X509Certificate.mgf1,
            maskGenerationHash: X509Certificate.sha384,
            saltLength: 48, trailerField: 1)
        let vcek = try X509Certificate(derEncoded: withTrailer)
        let vlek = try X509Certificate(derEncoded: withoutTrailer)
        #expect(vcek.signatureAlgorithm == .rsaPSS(expected))
        #expect(vlek.signatureAlgorithm == .rsaPSS(expected))
        #expect(vcek.signatureProblem(issuedBy: chain[0]) == nil)  // SEV-Milan
        #expect(vlek.signatureProblem(issuedBy: chain[2]) == nil)  // SEV-VLEK-Milan
    }

    @Test func otherPSSParametersAreRefused() throws {
        var der = try TestVectors.bytes("sev-snp/trustee/test-vcek.der")
        // Salt 48 → 32 in both the signed and the outer AlgorithmIdentifier.
        var replaced = 0
        while let range = der.firstRange(of: [0xA2, 0x03, 0x02, 0x01, 0x30]) {
            der[range.upperBound - 1] = 0x20
            replaced += 1
        }
        #expect(replaced == 2)
        let ask = try X509Certificate(
            derEncoded: try CertificateFile.derCertificates(
                from: try TestVectors.bytes("sev-snp/amd-roots/trustee_milan_ask_ark_asvk.pem"))[0])
        let problem = try #require(try X509Certificate(derEncoded: der).signatureProblem(issuedBy: ask))
        #expect(problem.contains("salt 48"))
    }
}
