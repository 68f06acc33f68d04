import Crypto
import Foundation
import Sodium

/// The collateral checks of a TDX quote: CRLs, the signed TCB Info and QE Identity, their age,
/// the FMSPC/PCE-ID match, and the TCB status of the matching levels (Intel's algorithm: the
/// platform level from the PCK's SGX TCB and the quote's TEE_TCB_SVN, converged with the TDX
/// module's and the QE's levels).
struct CollateralEvaluation {
    let quote: TDXQuote
    let qeReport: SGXReportBody
    let chain: PCKChain
    let pck: PCKExtensions
    let collateral: TDXCollateral
    let policy: TDXPolicy
    let now: Date
    /// The pinned Intel SGX Root CA (a test root only through `TDXVerifier.init(collateral:testRoot:)`).
    let root: X509Certificate

    typealias Check = VerificationResult.Check
    typealias Name = TDXVerifier.CheckName

    /// Status names in Intel's TCB Info.
    static let upToDate = "UpToDate"
    static let outOfDate = "OutOfDate"
    static let revoked = "Revoked"

    func checks() -> [Check] {
        var checks: [Check] = []
        func record(_ name: String, _ problem: String?, ok: @autoclosure () -> String) {
            checks.append(.init(name, passed: problem == nil, detail: problem ?? ok()))
        }

        // Root CA CRL: signed by the pinned root, current.
        let rootCRL = try? CertificateRevocationList(derEncoded: collateral.rootCACRL)
        if let rootCRL {
            let problem =
                rootCRL.signatureProblem(issuedBy: root) ?? rootCRL.validityProblem(at: now)
                ?? chain.intermediate.flatMap {
                    rootCRL.revokes($0) ? "\($0.displayName) is revoked by the root CA" : nil
                }
            record(
                Name.rootCRL, problem,
                ok: "root CA CRL signed by the pinned root, \(rootCRL.revokedSerials.count) revoked, next update "
                    + (rootCRL.nextUpdate.map(X509Certificate.format) ?? "?"))
        } else {
            record(Name.rootCRL, "root_ca_crl is not a DER CRL", ok: "")
        }
        let rootCRLs = rootCRL.map { [$0] } ?? []

        // PCK CRL: issued by the quote's PCK CA (whose chain to the root it names), current, and
        // not listing the PCK leaf.
        let pckCRL = try? CertificateRevocationList(derEncoded: collateral.pckCRL)
        var pckProblem: String?
        if let pckCRL {
            let issuerChain = Self.chain(
                collateral.pckCRLIssuerChain, root: root, now: now, crls: rootCRLs, what: "PCK CRL issuer chain")
            switch issuerChain {
            case .failure(let error): pckProblem = error.description
            case .success(let certificates):
                if let intermediate = chain.intermediate {
                    if certificates.first?.subject != intermediate.subject
                        || certificates.first?.subjectPublicKeyInfo != intermediate.subjectPublicKeyInfo
                    {
                        pckProblem = "the PCK CRL issuer chain is not for the quote's \(intermediate.displayName)"
                    } else {
                        pckProblem =
                            pckCRL.signatureProblem(issuedBy: intermediate) ?? pckCRL.validityProblem(at: now)
                            ?? chain.leaf.flatMap {
                                pckCRL.revokes($0)
                                    ? "the PCK certificate (serial \(Hex.encode($0.serialNumber))) is revoked" : nil
                            }
                    }
                } else {
                    pckProblem = "no verified PCK CA to check the PCK CRL against"
                }
            }
            record(
                Name.pckCRL, pckProblem,
                ok: "PCK not among the \(pckCRL.revokedSerials.count) revoked by \(pckCRL.displayName), next update "
                    + (pckCRL.nextUpdate.map(X509Certificate.format) ?? "?"))
        } else {
            record(Name.pckCRL, "pck_crl is not a DER CRL", ok: "")
        }

        // TCB Info and QE Identity: signed over their exact bytes by the TCB Signing key, current.
        let tcbInfo = try? JSONDecoder().decode(IntelTCBInfo.self, from: Data(collateral.tcbInfo))
        record(
            Name.tcbInfo,
            signedJSONProblem(
                collateral.tcbInfo, signature: collateral.tcbInfoSignature, chain: collateral.tcbInfoIssuerChain,
                crls: rootCRLs, what: "TCB Info")
                ?? tcbInfo.map { info in
                    info.id != "TDX" || info.version < 3
                        ? "TCB Info is \(info.id) v\(info.version), not TDX v3"
                        : windowProblem("TCB Info", issued: info.issueDate, next: info.nextUpdate)
                } ?? "TCB Info does not decode",
            ok: "TCB Info for FMSPC \(tcbInfo?.fmspc ?? "?") signed by Intel, next update \(tcbInfo?.nextUpdate ?? "?")"
        )
        let qeIdentity = try? JSONDecoder().decode(IntelQEIdentity.self, from: Data(collateral.qeIdentity))
        record(
            Name.qeIdentity,
            signedJSONProblem(
                collateral.qeIdentity, signature: collateral.qeIdentitySignature,
                chain: collateral.qeIdentityIssuerChain, crls: rootCRLs, what: "QE Identity")
                ?? qeIdentity.map { identity in
                    identity.id != "TD_QE"
                        ? "QE Identity is for \(identity.id), not TD_QE"
                        : windowProblem("QE Identity", issued: identity.issueDate, next: identity.nextUpdate)
                } ?? "QE Identity does not decode",
            ok: "QE Identity (TD_QE) signed by Intel, next update \(qeIdentity?.nextUpdate ?? "?")")

        // Age: the policy's limit on how old any collateral item may be.
        if let maximum = policy.maximumCollateralAge {
            var dated: [(String, Date?)] = [
                ("TCB Info", tcbInfo.flatMap { IntelDate.parse($0.issueDate) }),
                ("QE Identity", qeIdentity.flatMap { IntelDate.parse($0.issueDate) }),
            ]
            dated.append(("root CA CRL", rootCRL?.thisUpdate))
            dated.append(("PCK CRL", pckCRL?.thisUpdate))
            let old = dated.compactMap { name, issued -> String? in
                guard let issued else { return "\(name) has no issue date" }
                let age = now.timeIntervalSince(issued)
                return age > maximum ? "\(name) issued \(X509Certificate.format(issued)) is \(Int(age))s old" : nil
            }
            record(
                Name.collateralAge,
                old.isEmpty ? nil : old.joined(separator: "; ") + " (policy allows \(Int(maximum))s)",
                ok: "all collateral issued within \(Int(maximum))s")
        }

        guard let tcbInfo, let qeIdentity else {
            record(Name.tcbStatus, "TCB status unknown: TCB Info or QE Identity does not decode", ok: "")
            return checks
        }

        // The TCB Info must be for this platform.
        let fmspcMatch = tcbInfo.fmspc.lowercased() == Hex.encode(pck.fmspc)
        let pceMatch = tcbInfo.pceId.lowercased() == Hex.encode(pck.pceID)
        record(
            Name.fmspc,
            !fmspcMatch
                ? "TCB Info FMSPC \(tcbInfo.fmspc) differs from the PCK certificate's \(Hex.encode(pck.fmspc))"
                : !pceMatch
                    ? "TCB Info PCE-ID \(tcbInfo.pceId) differs from the PCK certificate's \(Hex.encode(pck.pceID))"
                    : nil,
            ok: "FMSPC \(Hex.encode(pck.fmspc)) and PCE-ID \(Hex.encode(pck.pceID)) match the PCK certificate")

        let qeLevel = qeLevel(qeIdentity)
        record(Name.qeTCB, qeLevel.problem, ok: "QE ISV SVN \(qeReport.isvSVN): \(qeLevel.level?.tcbStatus ?? "?")")
        let module = moduleLevel(tcbInfo)
        record(Name.tdxModule, module.problem, ok: module.detail)

        // The platform level, converged with the module's and the QE's.
        guard let platform = platformLevel(tcbInfo) else {
            record(Name.tcbStatus, "no TCB level of FMSPC \(tcbInfo.fmspc) matches this platform's TCB", ok: "")
            return checks
        }
        var status = platform.tcbStatus
        var advisories = platform.advisoryIDs ?? []
        for other in [module.level, qeLevel.level].compactMap({ $0 }) {
            advisories += other.advisoryIDs ?? []
            if other.tcbStatus == Self.revoked { status = Self.revoked }
            if other.tcbStatus == Self.outOfDate {
                switch status {
                case Self.upToDate, "SWHardeningNeeded": status = Self.outOfDate
                case "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded": status = "OutOfDateConfigurationNeeded"
                default: break
                }
            }
        }
        advisories = Array(Set(advisories)).sorted()
        let accepted = policy.acceptedTCBStatuses ?? []
        let advisoryText = advisories.isEmpty ? "no advisories" : "advisories " + advisories.joined(separator: ", ")
        let detail = "TCB status \(status) (level of \(platform.tcbDate ?? "?")), \(advisoryText)"
        if status == Self.upToDate {
            record(Name.tcbStatus, nil, ok: detail)
        } else if status != Self.revoked, accepted.contains(status) {
            record(Name.tcbStatus, nil, ok: detail + "; accepted by the policy")
        } else {
            record(
                Name.tcbStatus,
                detail + "; the policy accepts only " + (["UpToDate"] + accepted).joined(separator: ", "),
                ok: "")
        }
        return checks
    }

    // MARK: - Pieces

    static func chain(
        _ pem: String, root: X509Certificate, now: Date, crls: [CertificateRevocationList], what: String
    ) -> Result<[X509Certificate], ChainError> {
        guard let der = try? CertificateFile.derCertificates(from: Array(pem.utf8)) else {
            return .failure(ChainError("\(what) is not PEM"))
        }
        return CertificateChain.verify(der, root: root, now: now, crls: crls, what: what)
    }

    private func signedJSONProblem(
        _ bytes: [UInt8], signature: [UInt8], chain pem: String, crls: [CertificateRevocationList], what: String
    ) -> String? {
        switch Self.chain(pem, root: root, now: now, crls: crls, what: "\(what) issuer chain") {
        case .failure(let error): return error.description
        case .success(let certificates):
            guard case .p256(let key)? = certificates.first?.ecdsaKey else {
                return "\(what) signing certificate does not hold a P-256 key"
            }
            guard let parsed = try? P256.Signing.ECDSASignature(rawRepresentation: signature),
                key.isValidSignature(parsed, for: SHA256.hash(data: bytes))
            else { return "\(what) signature does not verify over its exact bytes" }
            return nil
        }
    }

    private func windowProblem(_ what: String, issued: String, next: String) -> String? {
        guard let issueDate = IntelDate.parse(issued), let nextUpdate = IntelDate.parse(next) else {
            return "\(what) dates \(issued) / \(next) are not ISO 8601"
        }
        if now < issueDate { return "\(what) is not valid before its issue date \(issued)" }
        if now > nextUpdate { return "\(what) has expired: its nextUpdate was \(next)" }
        return nil
    }

    private func qeLevel(_ identity: IntelQEIdentity) -> (level: IntelTCBInfo.Level?, problem: String?) {
        guard Hex.decode(spaced: identity.mrsigner) == qeReport.mrSigner else {
            return (nil, "QE MRSIGNER \(Hex.encode(qeReport.mrSigner)) is not the QE Identity's")
        }
        guard identity.isvprodid == Int(qeReport.isvProdID) else {
            return (nil, "QE ISVPRODID \(qeReport.isvProdID) is not the QE Identity's \(identity.isvprodid)")
        }
        guard let misc = UInt32(identity.miscselect, radix: 16),
            let miscMask = UInt32(identity.miscselectMask, radix: 16),
            qeReport.miscSelect & miscMask == misc & miscMask
        else { return (nil, "QE MISCSELECT does not match the QE Identity") }
        guard let attributes = Hex.decode(spaced: identity.attributes),
            let mask = Hex.decode(spaced: identity.attributesMask),
            attributes.count == 16, mask.count == 16,
            zip(zip(qeReport.attributes, attributes), mask).allSatisfy({ ($0.0 & $1) == ($0.1 & $1) })
        else { return (nil, "QE ATTRIBUTES do not match the QE Identity") }
        guard let level = identity.tcbLevels.first(where: { ($0.tcb.isvsvn ?? Int.max) <= Int(qeReport.isvSVN) }) else {
            return (nil, "no QE Identity TCB level for ISV SVN \(qeReport.isvSVN)")
        }
        if level.tcbStatus == Self.revoked {
            return (level, "the quoting enclave's TCB (ISV SVN \(qeReport.isvSVN)) is revoked")
        }
        return (level, nil)
    }

    private func moduleLevel(_ info: IntelTCBInfo) -> (level: IntelTCBInfo.Level?, problem: String?, detail: String) {
        let body = quote.body
        let version = quote.body.teeTCBSVN[1]
        func matches(_ mrsigner: String, _ attributes: String, _ mask: String) -> Bool {
            guard Hex.decode(spaced: mrsigner) == body.mrSignerSEAM, let a = Hex.decode(spaced: attributes),
                let m = Hex.decode(spaced: mask), a.count == 8, m.count == 8
            else { return false }
            return zip(zip(body.seamAttributes, a), m).allSatisfy { ($0.0 & $1) == ($0.1 & $1) }
        }
        guard version > 0 else {
            guard let module = info.tdxModule else { return (nil, "TCB Info has no tdxModule", "") }
            return matches(module.mrsigner, module.attributes, module.attributesMask)
                ? (nil, nil, "TDX module 1.0: MRSIGNERSEAM and SEAM attributes match")
                : (nil, "MRSIGNERSEAM or SEAM attributes differ from the TCB Info's tdxModule", "")
        }
        let id = "TDX_" + String(format: "%02X", version)
        guard let identity = info.tdxModuleIdentities?.first(where: { $0.id == id }) else {
            return (nil, "TCB Info has no TDX module identity \(id)", "")
        }
        guard matches(identity.mrsigner, identity.attributes, identity.attributesMask) else {
            return (nil, "MRSIGNERSEAM or SEAM attributes differ from TDX module identity \(id)", "")
        }
        let svn = Int(body.teeTCBSVN[0])
        guard let level = identity.tcbLevels.first(where: { ($0.tcb.isvsvn ?? Int.max) <= svn }) else {
            return (nil, "no level of TDX module identity \(id) for SVN \(svn)", "")
        }
        if level.tcbStatus == Self.revoked { return (level, "TDX module \(id) SVN \(svn) is revoked", "") }
        return (level, nil, "TDX module \(id) SVN \(svn): \(level.tcbStatus)")
    }

    private func platformLevel(_ info: IntelTCBInfo) -> IntelTCBInfo.Level? {
        let tee = quote.body.teeTCBSVN
        // With a TDX module version in byte 1, bytes 0–1 are judged by the module identity instead.
        let start = tee[1] > 0 ? 2 : 0
        return info.tcbLevels.first { level in
            guard let sgx = level.tcb.sgxtcbcomponents, sgx.count == 16, let pcesvn = level.tcb.pcesvn,
                let tdx = level.tcb.tdxtcbcomponents, tdx.count == 16
            else { return false }
            guard zip(pck.cpuSVNComponents, sgx).allSatisfy({ $0 >= $1.svn }), pck.pceSVN >= pcesvn else {
                return false
            }
            return (start..<16).allSatisfy { Int(tee[$0]) >= tdx[$0].svn }
        }
    }
}
