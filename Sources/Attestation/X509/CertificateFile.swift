/// Reads certificate material as operators and AMD KDS hand it out: one DER certificate, or PEM
/// text holding one or more `CERTIFICATE` blocks (KDS `cert_chain`: ASK then ARK).
public enum CertificateFile {
    /// The DER certificates in `contents`, in file order.
    public static func derCertificates(from contents: [UInt8]) throws(AttestationError) -> [[UInt8]] {
        let text = String(decoding: contents, as: UTF8.self)
        guard text.contains("-----BEGIN") else {
            guard let first = contents.first, first == 0x30 else {
                throw .malformed(what: "certificate file", reason: "neither PEM nor DER (no SEQUENCE tag)")
            }
            return [contents]
        }
        var certificates: [[UInt8]] = []
        var remainder = Substring(text)
        let begin = "-----BEGIN CERTIFICATE-----"
        let end = "-----END CERTIFICATE-----"
        while let start = remainder.range(of: begin) {
            guard let stop = remainder.range(of: end, range: start.upperBound..<remainder.endIndex) else {
                throw .malformed(
                    what: "certificate file", reason: "PEM block \(certificates.count + 1) has no END line")
            }
            let body = remainder[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
            guard let der = Base64Text.decode(String(body)) else {
                throw .malformed(what: "certificate file", reason: "PEM block \(certificates.count + 1) is not base64")
            }
            certificates.append(der)
            remainder = remainder[stop.upperBound...]
        }
        guard !certificates.isEmpty else {
            throw .malformed(what: "certificate file", reason: "PEM text holds no CERTIFICATE block")
        }
        return certificates
    }
}
