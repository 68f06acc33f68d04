import Crypto
import Foundation

extension SEVSNPVerifier {
    /// The `ark`, `ask` and `vek` checks, and what later checks need from the chain.
    struct ChainOutcome {
        var checks: [VerificationResult.Check] = []
        var vek: X509Certificate?
        var vekKey: P384.Signing.PublicKey?
        /// "VCEK", "VLEK", or "VCEK/VLEK" when no issuer says which.
        var vekKind = "VCEK/VLEK"
        var product: SEVSNPProduct?
        var ark: X509Certificate?
        var intermediate: X509Certificate?
    }

    /// Walks VCEK/VLEK → ASK/ASVK → ARK. The intermediate is the certificate named as the VEK's
    /// issuer, the root the pinned ARK named as the intermediate's issuer, so one verifier can hold
    /// the chains of several products at once.
    func evaluateChain(evidence: Evidence, report: SEVSNPReport, now: Date) -> ChainOutcome {
        var outcome = ChainOutcome()
        func record(_ name: String, _ problem: String?, ok: @autoclosure () -> String) {
            outcome.checks.append(.init(name, passed: problem == nil, detail: problem ?? ok()))
        }

        var certificates: [X509Certificate] = []
        var parseProblems: [String] = []
        for (index, der) in evidence.certificates.enumerated() {
            do {
                let certificate = try X509Certificate(derEncoded: der)
                if index == 0 { outcome.vek = certificate } else { certificates.append(certificate) }
            } catch {
                parseProblems.append("evidence certificate \(index + 1): \(error)")
            }
        }
        for (index, der) in chain.enumerated() {
            do { certificates.append(try X509Certificate(derEncoded: der)) } catch {
                parseProblems.append("chain certificate \(index + 1): \(error)")
            }
        }
        let parseNote = parseProblems.isEmpty ? "" : " (" + parseProblems.joined(separator: "; ") + ")"

        let roots = certificates.filter { $0.isSelfIssued && trustedRootFingerprints[$0.fingerprintHex] != nil }
        let intermediates = certificates.filter { !$0.isSelfIssued }
        var intermediate: X509Certificate?
        if let vek = outcome.vek {
            intermediate =
                intermediates.first { $0.subject == vek.issuer } ?? (intermediates.count == 1 ? intermediates[0] : nil)
        } else if intermediates.count == 1 {
            intermediate = intermediates[0]
        }
        let ark = intermediate.flatMap { i in roots.first { $0.subject == i.issuer } } ?? roots.first
        outcome.ark = ark
        outcome.intermediate = intermediate

        // ARK: pinned, self-signed, valid now.
        if let ark {
            outcome.product = trustedRootFingerprints[ark.fingerprintHex]
            record(
                SEVSNPVerifier.CheckName.ark, ark.signatureProblem(issuedBy: ark) ?? ark.validityProblem(at: now),
                ok: "\(ark.displayName) is a pinned AMD root (sha256 \(ark.fingerprintHex.prefix(16))…), "
                    + "self-signed, valid until \(X509Certificate.format(ark.notAfter))")
        } else {
            let found = certificates.filter(\.isSelfIssued).map {
                "\($0.displayName) sha256 \($0.fingerprintHex.prefix(16))…"
            }
            let seen = found.isEmpty ? "no self-signed certificate" : found.joined(separator: ", ")
            record(
                SEVSNPVerifier.CheckName.ark,
                "no pinned AMD root (ARK-Milan, ARK-Genoa, ARK-Turin) in the chain; found \(seen)\(parseNote)", ok: "")
        }

        // ASK or ASVK: issued and signed by the ARK, valid now.
        switch (intermediate, ark) {
        case (let intermediate?, let ark?):
            let problem =
                intermediate.issuer != ark.subject
                ? "\(intermediate.displayName) is not issued by \(ark.displayName)"
                : intermediate.signatureProblem(issuedBy: ark) ?? intermediate.validityProblem(at: now)
            record(
                SEVSNPVerifier.CheckName.ask, problem,
                ok: "\(intermediate.displayName) is signed by \(ark.displayName) and valid until "
                    + X509Certificate.format(intermediate.notAfter))
        case (let intermediate?, nil):
            record(
                SEVSNPVerifier.CheckName.ask, "cannot check \(intermediate.displayName) without a pinned ARK", ok: "")
        case (nil, _):
            let names = intermediates.map(\.displayName).joined(separator: ", ")
            record(
                SEVSNPVerifier.CheckName.ask,
                "no ASK/ASVK that issued the VCEK/VLEK in the chain (have: \(names.isEmpty ? "none" : names))", ok: "")
        }

        // VCEK or VLEK: issued and signed by the intermediate, valid now, P-384, the kind the report names.
        guard let vek = outcome.vek else {
            record(SEVSNPVerifier.CheckName.vek, "no usable VCEK/VLEK certificate was supplied\(parseNote)", ok: "")
            return outcome
        }
        outcome.vekKey = try? P384.Signing.PublicKey(derRepresentation: vek.subjectPublicKeyInfo)
        if let issuerName = intermediate?.subjectCommonName {
            outcome.vekKind = issuerName.hasPrefix("SEV-VLEK-") ? "VLEK" : "VCEK"
        }
        var problem: String?
        if let intermediate {
            problem =
                vek.issuer != intermediate.subject
                ? "the VCEK/VLEK (issuer CN=\(vek.issuerCommonName ?? "?")) is not issued by \(intermediate.displayName)"
                : vek.signatureProblem(issuedBy: intermediate)
        } else {
            problem = "no issuer certificate to verify \(vek.displayName) against"
        }
        problem = problem ?? vek.validityProblem(at: now)
        if problem == nil, outcome.vekKey == nil { problem = "\(vek.displayName) does not hold a P-384 public key" }
        if problem == nil {
            switch (report.signingKey, outcome.vekKind) {
            case (.vcek, "VCEK"), (.vlek, "VLEK"): break
            default:
                problem =
                    "the report names \(report.signingKey) as its signing key but the certificate is a "
                    + "\(outcome.vekKind) (issued by \(intermediate?.displayName ?? "?"))"
            }
        }
        record(
            SEVSNPVerifier.CheckName.vek, problem,
            ok:
                "\(outcome.vekKind) \(vek.displayName) is signed by \(intermediate?.displayName ?? "?") and valid until "
                + X509Certificate.format(vek.notAfter))
        return outcome
    }
}
