import Crypto
public import Foundation

/// The RIM's enveloped XML-DSig signature, as NVIDIA makes it: one `ds:Signature` child of the
/// root, SignedInfo canonicalised with C14N 1.1, ECDSA P-384/SHA-384, one Reference to the whole
/// document (URI "") through the enveloped-signature and C14N 1.1 transforms with a SHA-384
/// digest, and the signer's chain (leaf first, root last) in KeyInfo, ending at the pinned NVIDIA
/// CoRIM signing Root CA. Anything else in SignedInfo is refused, not skipped.
extension NVIDIARIM {
    /// SHA-256 of the DER of the NVIDIA CoRIM signing Root CA (nvtrust's `verifier_RIM_root.pem`).
    public static let pinnedRootFingerprint = "12977b5115acb0381179279fffeb5a8c4d264971ebb32298023a465fa41df5d1"

    static let rimRoot: X509Certificate = PinnedRoot.load(
        base64: """
            MIICKTCCAbCgAwIBAgIQRdrjoA5QN73fh1N17LXicDAKBggqhkjOPQQDAzBFMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElB
            MSUwIwYDVQQDDBxOVklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMCAXDTIzMDMxNjE1MzczNFoYDzIwNTMwMzA4MTUzNzM0WjBF
            MQswCQYDVQQGEwJVUzEPMA0GA1UECgwGTlZJRElBMSUwIwYDVQQDDBxOVklESUEgQ29SSU0gc2lnbmluZyBSb290IENBMHYwEAYH
            KoZIzj0CAQYFK4EEACIDYgAEuECyi9vNM+Iw2lfUzyBldHAwaC1HF7TCgp12QcEyUTm3Tagxwr48d55+K2VIlWYIDk7NlAIQdcV/
            Ff7euGLI+Qauj93HsSI4WX298PpW54RTgz9tC+Q684caR/BXWEeZo2MwYTAdBgNVHQ4EFgQUpaXrOPK4ZDAk08DBskn594zeZjAw
            HwYDVR0jBBgwFoAUpaXrOPK4ZDAk08DBskn594zeZjAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwCgYIKoZIzj0E
            AwMDZwAwZAIwHGDyscDP6ihHqRvZlI3eqZ4YkvjE1duaN84tAHRVgxVMvNrp5Tnom3idHYGW/dskAjATvjIx6VzHm/4e2GiZAyZE
            IUBDOKPzp5ei/A0iUZpdvngenDwV8Qa/wGdiTmJ7Bp4=
            """, fingerprint: pinnedRootFingerprint)

    static let dsigNamespace = "http://www.w3.org/2000/09/xmldsig#"
    static let c14n11 = "http://www.w3.org/2006/12/xml-c14n11"
    static let ecdsaSHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
    static let envelopedSignature = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
    static let sha384Digest = "http://www.w3.org/2001/04/xmldsig-more#sha384"

    /// Nil when the RIM is signed as described above by a chain to the pinned root valid at
    /// `now`; otherwise why not.
    public func signatureProblem(now: Date) -> String? {
        signatureProblem(root: Self.rimRoot, now: now)
    }

    func signatureProblem(root: X509Certificate, now: Date) -> String? {
        let top = document.root
        var scope = top.declarations
        func isDSig(_ element: RIMXML.Element, _ localName: String, above: [String: String]) -> Bool {
            var inner = above
            for (prefix, uri) in element.declarations { inner[prefix] = uri }
            return element.localName == localName && inner[element.prefix] == Self.dsigNamespace
        }
        let signatures = top.elements.filter { isDSig($0, "Signature", above: scope) }
        guard signatures.count == 1, let signature = signatures.first else {
            return "RIM has \(signatures.count) ds:Signature elements, expected 1"
        }
        for (prefix, uri) in signature.declarations { scope[prefix] = uri }
        let parts = signature.elements
        guard parts.count >= 2, isDSig(parts[0], "SignedInfo", above: scope),
            isDSig(parts[1], "SignatureValue", above: scope)
        else { return "ds:Signature does not start with SignedInfo and SignatureValue" }
        let signedInfo = parts[0]
        let info = signedInfo.elements
        guard info.count == 3, info[0].localName == "CanonicalizationMethod", info[1].localName == "SignatureMethod",
            info[2].localName == "Reference"
        else { return "SignedInfo is not CanonicalizationMethod, SignatureMethod and one Reference" }
        guard info[0].attribute("Algorithm") == Self.c14n11, info[0].elements.isEmpty else {
            return "SignedInfo canonicalization \(info[0].attribute("Algorithm") ?? "?") is not C14N 1.1"
        }
        guard info[1].attribute("Algorithm") == Self.ecdsaSHA384 else {
            return "signature method \(info[1].attribute("Algorithm") ?? "?") is not ECDSA-SHA384"
        }
        let reference = info[2]
        guard reference.attribute("URI") == "" else { return "the Reference is not to the whole document (URI \"\")" }
        let referenceParts = reference.elements
        guard referenceParts.count == 3, referenceParts[0].localName == "Transforms",
            referenceParts[1].localName == "DigestMethod", referenceParts[2].localName == "DigestValue"
        else { return "the Reference is not Transforms, DigestMethod and DigestValue" }
        let transforms = referenceParts[0].elements.map { $0.attribute("Algorithm") ?? "?" }
        guard transforms == [Self.envelopedSignature, Self.c14n11] else {
            return "Reference transforms \(transforms) are not enveloped-signature then C14N 1.1"
        }
        guard referenceParts[1].attribute("Algorithm") == Self.sha384Digest else {
            return "digest method \(referenceParts[1].attribute("Algorithm") ?? "?") is not SHA-384"
        }
        guard let digest = Self.base64(referenceParts[2]), digest.count == 48 else {
            return "DigestValue is not 48 bytes of base64"
        }
        guard let signatureValue = Self.base64(parts[1]), signatureValue.count == 96 else {
            return "SignatureValue is not 96 bytes of base64 (P-384 r ‖ s)"
        }
        let certificates =
            parts.dropFirst(2).filter { isDSig($0, "KeyInfo", above: scope) }
            .flatMap(\.elements).filter { $0.localName == "X509Data" }
            .flatMap(\.elements).filter { $0.localName == "X509Certificate" }
            .map(Self.base64)
        guard !certificates.isEmpty, certificates.allSatisfy({ $0 != nil }) else {
            return "KeyInfo holds no X509Certificate, or one that is not base64"
        }

        // The document without its signature, then SignedInfo as a subset of the document.
        let documentDigest = SHA384.hash(data: RIMXML.canonical(top, omitting: { $0.id == signature.id }))
        guard Array(documentDigest) == digest else {
            return "the RIM's SHA-384 digest does not match its signed DigestValue (the RIM was altered)"
        }
        let chain: [X509Certificate]
        switch CertificateChain.verify(
            certificates.compactMap { $0 }, root: root, now: now, what: "RIM signing chain")
        {
        case .failure(let error): return error.description
        case .success(let verified): chain = verified
        }
        guard case .p384(let key)? = chain.first?.ecdsaKey,
            let parsed = try? P384.Signing.ECDSASignature(rawRepresentation: signatureValue)
        else { return "the RIM signer does not hold a P-384 key" }
        let signedBytes = RIMXML.canonical(signedInfo, inherited: scope)
        guard key.isValidSignature(parsed, for: SHA384.hash(data: signedBytes)) else {
            return "the SignedInfo signature does not verify with \(chain[0].displayName)"
        }
        return nil
    }

    private static func base64(_ element: RIMXML.Element) -> [UInt8]? {
        var text = ""
        for child in element.children {
            guard case .text(let part) = child else { return nil }
            text += part
        }
        return Base64Text.decode(text.filter { !$0.isWhitespace })
    }
}
