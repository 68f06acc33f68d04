import Foundation

/// The PCK chain a quote carries: PCK leaf ← PCK Platform/Processor CA ← pinned Intel SGX Root CA.
struct PCKChain {
    private(set) var leaf: X509Certificate?
    private(set) var intermediate: X509Certificate?
    private(set) var problem: String?
    private(set) var summary = ""

    init(
        der: [[UInt8]], now: Date, crls: [CertificateRevocationList] = [],
        root: X509Certificate = TDXVerifier.intelRoot
    ) {
        // The leaf is read even when the chain fails, so the QE report check still says something.
        leaf = der.first.flatMap { try? X509Certificate(derEncoded: $0) }
        switch CertificateChain.verify(der, root: root, now: now, crls: crls, what: "PCK chain") {
        case .failure(let error):
            problem = error.description
        case .success(let certificates):
            guard certificates.count == 2 else {
                problem = "PCK chain has \(certificates.count) certificates below the root, expected 2 (PCK, PCK CA)"
                return
            }
            leaf = certificates[0]
            intermediate = certificates[1]
            if certificates[0].isCertificateAuthority {
                problem = "PCK leaf \(certificates[0].displayName) is a CA certificate"
            }
            summary =
                "\(certificates[0].displayName) ← \(certificates[1].displayName) ← pinned \(root.subjectCommonName ?? "root"); "
                + "PCK valid until \(X509Certificate.format(certificates[0].notAfter))"
        }
    }
}
