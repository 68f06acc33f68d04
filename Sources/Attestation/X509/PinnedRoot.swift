import Foundation

/// A trust anchor compiled into the binary, checked against its published fingerprint at load.
enum PinnedRoot {
    /// The certificate in `base64` (DER, line breaks allowed). A mismatch is a build defect, so
    /// it stops the process rather than trusting something else.
    static func load(base64: String, fingerprint: String) -> X509Certificate {
        guard let der = Base64Text.decode(base64.filter { !$0.isWhitespace }),
            let certificate = try? X509Certificate(derEncoded: der), certificate.fingerprintHex == fingerprint
        else { preconditionFailure("pinned root certificate does not match its fingerprint \(fingerprint)") }
        return certificate
    }
}

/// An ECDSA certificate chain, leaf first, to a pinned root.
enum CertificateChain {
    /// Verifies `der` (leaf first; the root itself may end the list, and must then be the pinned
    /// one byte for byte): each certificate signed by the next, every issuer a CA, every one valid
    /// at `now`, none revoked by `crls` of its issuer. Returns the parsed certificates without the
    /// root, or why the chain fails.
    static func verify(
        _ der: [[UInt8]], root: X509Certificate, now: Date, crls: [CertificateRevocationList] = [], what: String
    ) -> Result<[X509Certificate], ChainError> {
        var certificates: [X509Certificate] = []
        for (index, bytes) in der.enumerated() {
            do { certificates.append(try X509Certificate(derEncoded: bytes)) } catch {
                return .failure(ChainError("\(what) certificate \(index + 1): \(error)"))
            }
        }
        certificates = leafFirst(certificates)
        if let last = certificates.last, last.isSelfIssued {
            guard last.der == root.der else {
                return .failure(
                    ChainError(
                        "\(what) ends at \(last.displayName) (sha256 \(last.fingerprintHex.prefix(16))…), "
                            + "not the pinned "
                            + "\(root.displayName)"))
            }
            certificates.removeLast()
        }
        guard !certificates.isEmpty else { return .failure(ChainError("\(what) holds no certificate below the root")) }
        let path = certificates + [root]
        for index in 0..<certificates.count {
            let certificate = path[index]
            let issuer = path[index + 1]
            if let problem = certificate.ecdsaSignatureProblem(issuedBy: issuer) ?? certificate.validityProblem(at: now)
            {
                return .failure(ChainError("\(what): \(problem)"))
            }
            if !issuer.isCertificateAuthority {
                return .failure(ChainError("\(what): \(issuer.displayName) is not a CA"))
            }
            for crl in crls where crl.revokes(certificate) {
                return .failure(ChainError("\(what): \(certificate.displayName) is revoked (\(crl.displayName))"))
            }
        }
        if let problem = root.ecdsaSignatureProblem(issuedBy: root) ?? root.validityProblem(at: now) {
            return .failure(ChainError("\(what): \(problem)"))
        }
        return .success(certificates)
    }
}

extension CertificateChain {
    /// The certificates ordered leaf first when they form one issuer path in some other order
    /// (some tools write the root first); otherwise as given, for the checks to judge.
    static func leafFirst(_ certificates: [X509Certificate]) -> [X509Certificate] {
        let issuers = Set(certificates.filter { !$0.isSelfIssued }.map(\.issuer))
        let leaves = certificates.filter { !issuers.contains($0.subject) && !$0.isSelfIssued }
        guard leaves.count == 1, var current = leaves.first else { return certificates }
        var path = [current]
        while !current.isSelfIssued, let next = certificates.first(where: { $0.subject == current.issuer }),
            !path.contains(next)
        {
            path.append(next)
            current = next
        }
        return path.count == certificates.count ? path : certificates
    }
}

/// Why a certificate chain failed, in words.
struct ChainError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
