import Crypto
public import Foundation
import Sodium

/// Verifies AMD SEV-SNP evidence: the VCEK/VLEK → ASK/ASVK → ARK chain against pinned AMD roots,
/// the report's ECDSA P-384 signature, and the role's policy.
///
/// `evidence.report` is a raw 0x4A0-byte report (or an Azure HCL report wrapping one);
/// `evidence.certificates` starts with the VCEK or VLEK (DER) and may carry the ASK/ASVK and ARK.
/// Chain certificates the evidence lacks come from `chain` (e.g. AMD KDS `cert_chain` PEM). Only an
/// ARK whose SHA-256 fingerprint is in `trustedRootFingerprints` anchors trust; AMD CRLs are checked
/// when configured (`crls`).
public struct SEVSNPVerifier: EvidenceVerifier {
    /// SHA-256 of the DER of AMD's ARK-Milan, ARK-Genoa and ARK-Turin (self-signed roots).
    public static let pinnedRootFingerprints: [String: SEVSNPProduct] = [
        "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd": .milan,
        "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1": .genoa,
        "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a": .turin,
    ]

    /// Names of the checks, in the order they are listed.
    public enum CheckName {
        public static let reportFormat = "report-format"
        public static let hclBinding = "hcl-binding"
        public static let ark = "ark"
        public static let ask = "ask"
        public static let vek = "vek"
        public static let signature = "signature"
        public static let tcbMatch = "tcb-match"
        public static let reportData = "report-data"
        public static let measurement = "measurement"
        public static let debug = "debug"
        public static let vmpl = "vmpl"
        public static let minimumTCB = "minimum-tcb"
        public static let crl = "crl"
    }

    public let chain: [[UInt8]]
    public let trustedRootFingerprints: [String: SEVSNPProduct]
    /// AMD CRLs (DER, each signed by an ARK with RSA-PSS). When any is configured, the `crl`
    /// check demands a current one from the report's ARK and refuses a revoked ASK/ASVK or VEK.
    public let crls: [[UInt8]]

    /// - Parameters:
    ///   - chain: DER certificates (ASK/ASVK, ARK) to use when the evidence does not carry them.
    ///   - trustedRootFingerprints: lower-case hex SHA-256 of trusted ARK DER → product.
    public init(
        chain: [[UInt8]] = [], trustedRootFingerprints: [String: SEVSNPProduct] = Self.pinnedRootFingerprints,
        crls: [[UInt8]] = []
    ) {
        self.chain = chain
        self.trustedRootFingerprints = trustedRootFingerprints
        self.crls = crls
    }

    public func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult {
        var checks: [VerificationResult.Check] = [expectations.policy.constraintsCheck(for: .sevSNP)]
        func record(_ name: String, _ problem: String?, ok: @autoclosure () -> String) {
            checks.append(.init(name, passed: problem == nil, detail: problem ?? ok()))
        }

        // The report itself, possibly inside an Azure HCL report.
        let rawReport: [UInt8]
        let hcl: AzureHCLReport?
        let report: SEVSNPReport
        do {
            if AzureHCLReport.looksLikeHCL(evidence.report) {
                let wrapper = try AzureHCLReport(bytes: evidence.report)
                hcl = wrapper
                rawReport = wrapper.snpReport
            } else {
                hcl = nil
                rawReport = evidence.report
            }
            report = try SEVSNPReport(bytes: rawReport)
            checks.append(.init(CheckName.reportFormat, passed: true, detail: Self.summary(report, hcl: hcl != nil)))
        } catch {
            checks.append(.init(CheckName.reportFormat, passed: false, detail: "\(error)"))
            return VerificationResult(kind: evidence.kind, checks: checks, claims: nil)
        }
        if let hcl {
            record(
                CheckName.hclBinding, hcl.bindingProblem(report: report),
                ok: "report_data[0:32] is SHA-256 of the HCL runtime data (\(hcl.runtimeData.count) bytes)")
        }

        let chainOutcome = evaluateChain(evidence: evidence, report: report, now: now)
        checks += chainOutcome.checks
        if !crls.isEmpty {
            let problem = revocationProblem(chainOutcome, now: now)
            record(CheckName.crl, problem, ok: "neither the ASK/ASVK nor the VEK is on the ARK's current CRL")
        }
        let vek = chainOutcome.vek
        let vekKey = chainOutcome.vekKey
        let vekKind = chainOutcome.vekKind
        let product = chainOutcome.product

        // The report's own signature.
        record(
            CheckName.signature, Self.signatureProblem(report, key: vekKey),
            ok: "ECDSA P-384/SHA-384 over bytes 0x000–0x29F verifies with the \(vekKind)")

        // The report's TCB must be the one the VEK was issued for.
        let layout = product ?? report.productFromCPUID ?? .milan
        if let vek {
            record(
                CheckName.tcbMatch, Self.tcbProblem(report, vek: vek, kind: vekKind, layout: layout),
                ok: "reported TCB (\(report.reportedTCB.describe(for: layout))) matches the \(vekKind)")
        } else {
            record(CheckName.tcbMatch, "no VCEK/VLEK to compare the reported TCB with", ok: "")
        }

        // Policy.
        let actualReportData = hcl?.userData ?? report.reportData
        if actualReportData == expectations.reportData {
            record(CheckName.reportData, nil, ok: "report data matches the expected binding")
        } else {
            let source = hcl == nil ? "report data" : "HCL user-data"
            record(
                CheckName.reportData,
                "\(source) \(Hex.encode(actualReportData.prefix(8)))… differs from the expected \(Hex.encode(expectations.reportData.prefix(8)))…",
                ok: "")
        }
        if expectations.measurements.isEmpty {
            record(CheckName.measurement, "the policy accepts no measurement", ok: "")
        } else if expectations.measurements.contains(report.measurement) {
            record(CheckName.measurement, nil, ok: "measurement \(Hex.encode(report.measurement)) is accepted")
        } else {
            record(
                CheckName.measurement,
                "measurement \(Hex.encode(report.measurement)) is not among the \(expectations.measurements.count) accepted",
                ok: "")
        }
        if report.policy.debugAllowed && !expectations.policy.allowDebug {
            record(
                CheckName.debug, "guest policy \(report.policy) allows debugging (bit 19) and the policy forbids it",
                ok: "")
        } else {
            record(
                CheckName.debug, nil,
                ok: report.policy.debugAllowed
                    ? "debugging allowed by guest policy \(report.policy), and the policy permits it"
                    : "debugging off (guest policy \(report.policy))")
        }
        let wantedVMPL = expectations.policy.vmpl ?? 0
        record(
            CheckName.vmpl,
            Int(report.vmpl) == wantedVMPL
                ? nil : "report requested at VMPL \(report.vmpl), policy requires VMPL \(wantedVMPL)",
            ok: "VMPL \(report.vmpl)")
        if let minimum = expectations.policy.minimumTCB.map(SEVSNPTCBVersion.init(rawValue:)) {
            let lacking = [
                ("reported", report.reportedTCB), ("committed", report.committedTCB), ("current", report.currentTCB),
            ]
            .filter { !$0.1.meets(minimum, for: layout) }
            record(
                CheckName.minimumTCB,
                lacking.isEmpty
                    ? nil
                    : lacking.map { "\($0.0) TCB (\($0.1.describe(for: layout)))" }.joined(separator: ", ")
                        + " below minimum (\(minimum.describe(for: layout)))",
                ok: "reported, committed and current TCB meet the minimum (\(minimum.describe(for: layout)))")
        } else {
            record(CheckName.minimumTCB, nil, ok: "no minimum TCB set")
        }
        if let extra = expectations.policy.sevSNP {
            checks += Self.policyChecks(report, policy: extra, layout: layout)
        }
        if let binding = ConfigurationBinding.check(
            field: "HOST_DATA", reported: report.hostData, expected: expectations.configurationDigest)
        {
            checks.append(binding)
        }

        let claims = AttestationClaims(
            measurement: Hex.encode(report.measurement), debug: report.policy.debugAllowed,
            tcb: report.reportedTCB.rawValue, reportData: Hex.encode(actualReportData),
            platform:
                "AMD SEV-SNP \(product?.rawValue ?? "(unknown product)") (\(vekKind))\(hcl == nil ? "" : " via Azure HCL")"
        )
        return VerificationResult(kind: evidence.kind, checks: checks, claims: claims)
    }

    private static func summary(_ report: SEVSNPReport, hcl: Bool) -> String {
        var text = "SEV-SNP report v\(report.version)"
        if let cpuid = report.cpuid {
            text +=
                " (cpuid \(String(cpuid.family, radix: 16))/\(String(cpuid.model, radix: 16))/\(String(cpuid.stepping, radix: 16)))"
        }
        text += ", firmware \(report.currentVersion), signing key \(report.signingKey)"
        return hcl ? text + ", inside an Azure HCL report" : text
    }

    static func signatureProblem(_ report: SEVSNPReport, key: P384.Signing.PublicKey?) -> String? {
        guard report.signatureAlgorithm == 1 else {
            return "signature algorithm \(report.signatureAlgorithm) is not ECDSA P-384 with SHA-384 (1)"
        }
        guard report.signatureR[48...].allSatisfy({ $0 == 0 }), report.signatureS[48...].allSatisfy({ $0 == 0 }) else {
            return "signature r or s has non-zero bytes beyond 48"
        }
        guard let key else { return "no VCEK/VLEK public key to verify the report signature with" }
        let raw = Array(report.signatureR[0..<48].reversed()) + Array(report.signatureS[0..<48].reversed())
        guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: raw) else {
            return "signature r/s are not a valid P-384 signature encoding"
        }
        let digest = Crypto.SHA384.hash(data: report.signedBytes)
        return key.isValidSignature(signature, for: digest)
            ? nil : "report signature does not verify with the VCEK/VLEK"
    }

    /// AMD's VCEK/VLEK extensions: the TCB the key was derived for, and (VCEK) the chip id.
    static func tcbProblem(_ report: SEVSNPReport, vek: X509Certificate, kind: String, layout: SEVSNPProduct) -> String?
    {
        let reported = report.reportedTCB.components(for: layout)
        var expected: [(String, UInt8, String)] = [
            ("bootloader", reported.bootloader, "1.3.6.1.4.1.3704.1.3.1"),
            ("tee", reported.tee, "1.3.6.1.4.1.3704.1.3.2"),
            ("snp", reported.snp, "1.3.6.1.4.1.3704.1.3.3"),
            ("microcode", reported.microcode, "1.3.6.1.4.1.3704.1.3.8"),
        ]
        if let fmc = reported.fmc { expected.append(("fmc", fmc, "1.3.6.1.4.1.3704.1.3.9")) }
        for (name, value, oid) in expected {
            guard let encoded = vek.extensions[oid], let certified = derSmallInteger(encoded) else {
                return "the \(kind) has no \(name) SPL extension (\(oid))"
            }
            if certified != Int(value) {
                return "reported TCB \(name) \(value) differs from the \(kind)'s \(certified)"
            }
        }
        if kind == "VCEK", !report.chipIDMasked, let hwid = vek.extensions["1.3.6.1.4.1.3704.1.4"] {
            let id = hardwareID(hwid)
            guard id.count <= report.chipID.count, Array(report.chipID.prefix(id.count)) == id else {
                return
                    "chip id \(Hex.encode(report.chipID.prefix(8)))… differs from the VCEK's hwid \(Hex.encode(id.prefix(8)))…"
            }
        }
        return nil
    }

    /// The value of a DER INTEGER no wider than a few bytes, or nil.
    private static func derSmallInteger(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 3, bytes[0] == 0x02, Int(bytes[1]) == bytes.count - 2, bytes.count <= 10 else {
            return nil
        }
        return bytes[2...].reduce(0) { $0 << 8 | Int($1) }
    }

    /// The hwid extension holds the raw chip id, or (newer encoding) an OCTET STRING around it.
    private static func hardwareID(_ value: [UInt8]) -> [UInt8] {
        if value.count >= 2, value[0] == 0x04, Int(value[1]) == value.count - 2 { return Array(value[2...]) }
        return value
    }
}

extension SEVSNPVerifier {
    /// Nil when the report's ARK has a CRL here, signed by it and current, that lists neither
    /// the intermediate nor the VEK; otherwise why not.
    func revocationProblem(_ chain: ChainOutcome, now: Date) -> String? {
        guard let ark = chain.ark else { return "no pinned ARK to find a CRL for" }
        var problems: [String] = []
        for der in crls {
            guard let crl = try? CertificateRevocationList(derEncoded: der) else {
                problems.append("a configured CRL does not parse")
                continue
            }
            guard crl.issuer == ark.subject else { continue }
            if let problem = crl.signatureProblem(issuedBy: ark) ?? crl.validityProblem(at: now) { return problem }
            if let intermediate = chain.intermediate, crl.revokes(intermediate) {
                return "\(intermediate.displayName) is revoked by \(crl.displayName)"
            }
            if let vek = chain.vek, crl.revokes(vek) { return "the \(chain.vekKind) is revoked by \(crl.displayName)" }
            return nil
        }
        return (["no CRL issued by \(ark.displayName) is configured"] + problems).joined(separator: "; ")
    }
}
