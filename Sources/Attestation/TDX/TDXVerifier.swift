import Crypto
public import Foundation
import Sodium

/// Verifies Intel TDX DCAP quotes (v4, and v5 with a TD 1.0 or TD 1.5 body): the quote signature
/// by the attestation key, the QE report signed by the PCK leaf, the QE report data binding the
/// attestation key, the PCK chain to the pinned Intel SGX Root CA and, with collateral, the CRLs,
/// the TCB Info and QE Identity and the platform's TCB status; then the role's policy.
///
/// `evidence.report` is the quote; `evidence.certificates` is unused (the PCK chain travels in
/// the quote). Without collateral the `collateral` check fails unless the policy's
/// `tdx.allowMissingCollateral` says otherwise: fail closed.
public struct TDXVerifier: EvidenceVerifier {
    /// SHA-256 of the DER of the Intel SGX Root CA.
    public static let pinnedRootFingerprint = "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"

    /// Names of the checks, in the order they are listed.
    public enum CheckName {
        public static let quoteFormat = "quote-format"
        public static let qeVendor = "qe-vendor"
        public static let pckChain = "pck-chain"
        public static let qeReportSignature = "qe-report-signature"
        public static let qeReportData = "qe-report-data"
        public static let quoteSignature = "quote-signature"
        public static let collateral = "collateral"
        public static let rootCRL = "root-crl"
        public static let pckCRL = "pck-crl"
        public static let tcbInfo = "tcb-info"
        public static let qeIdentity = "qe-identity"
        public static let collateralAge = "collateral-age"
        public static let fmspc = "fmspc"
        public static let qeTCB = "qe-tcb"
        public static let tdxModule = "tdx-module"
        public static let tcbStatus = "tcb-status"
        public static let reportData = "report-data"
        public static let measurement = "measurement"
        public static let debug = "debug"
        public static let rtmr = "rtmr"
        public static let mrConfigID = "mr-config-id"
        public static let mrSEAM = "mr-seam"
    }

    /// Collateral to pick from by FMSPC (a cache's contents, or one `--collateral` file).
    public let collateral: [TDXCollateral]

    /// The trust anchor every chain must end at: always the pinned Intel SGX Root CA, except in
    /// tests (see `init(collateral:testRoot:)`).
    let root: X509Certificate

    public init(collateral: [TDXCollateral] = []) {
        self.collateral = collateral
        root = Self.intelRoot
    }

    /// A verifier anchored at `testRoot` instead of the pinned root, so tests can sign quotes and
    /// collateral that differ from a valid set in exactly one fact. `internal`: reachable only
    /// through `@testable import`, never from the command, a topology or any public API.
    init(collateral: [TDXCollateral], testRoot: X509Certificate) {
        self.collateral = collateral
        root = testRoot
    }

    /// The Intel SGX Root CA, pinned: the DER whose SHA-256 is `pinnedRootFingerprint`.
    static let intelRoot: X509Certificate = {
        let pem = """
            MIICjzCCAjSgAwIBAgIUImUM1lqdNInzg7SVUr9QGzknBqwwCgYIKoZIzj0EAwIwaDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3Qg
            Q0ExGjAYBgNVBAoMEUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYT
            AlVTMB4XDTE4MDUyMTEwNDUxMFoXDTQ5MTIzMTIzNTk1OVowaDEaMBgGA1UEAwwRSW50ZWwgU0dYIFJvb3QgQ0ExGjAYBgNVBAoM
            EUludGVsIENvcnBvcmF0aW9uMRQwEgYDVQQHDAtTYW50YSBDbGFyYTELMAkGA1UECAwCQ0ExCzAJBgNVBAYTAlVTMFkwEwYHKoZI
            zj0CAQYIKoZIzj0DAQcDQgAEC6nEwMDIYZOj/iPWsCzaEKi71OiOSLRFhWGjbnBVJfVnkY4u3IjkDYYL0MxO4mqsyYjlBalTVYxF
            P2sJBK5zlKOBuzCBuDAfBgNVHSMEGDAWgBQiZQzWWp00ifODtJVSv1AbOScGrDBSBgNVHR8ESzBJMEegRaBDhkFodHRwczovL2Nl
            cnRpZmljYXRlcy50cnVzdGVkc2VydmljZXMuaW50ZWwuY29tL0ludGVsU0dYUm9vdENBLmRlcjAdBgNVHQ4EFgQUImUM1lqdNInz
            g7SVUr9QGzknBqwwDgYDVR0PAQH/BAQDAgEGMBIGA1UdEwEB/wQIMAYBAf8CAQEwCgYIKoZIzj0EAwIDSQAwRgIhAOW/5QkR+S9C
            iSDcNoowLuPRLsWGf/Yi7GSX94BgwTwgAiEA4J0lrHoMs+Xo5o/sX6O9QWxHRAvZUGOdRQ7cvqRXaqI=
            """
        return PinnedRoot.load(base64: pem, fingerprint: pinnedRootFingerprint)
    }()

    public func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult {
        var checks: [VerificationResult.Check] = [expectations.policy.constraintsCheck(for: .tdx)]
        func record(_ name: String, _ problem: String?, ok: @autoclosure () -> String) {
            checks.append(.init(name, passed: problem == nil, detail: problem ?? ok()))
        }

        let quote: TDXQuote
        do {
            quote = try TDXQuote(bytes: evidence.report)
            let trailing =
                quote.trailingByteCount == 0 ? "" : ", \(quote.trailingByteCount) unsigned trailing bytes ignored"
            record(
                CheckName.quoteFormat, nil,
                ok: "TDX quote v\(quote.version), \(quote.bodyType == 3 ? "TD 1.5" : "TD 1.0") body\(trailing)")
        } catch {
            record(CheckName.quoteFormat, "\(error)", ok: "")
            return VerificationResult(kind: evidence.kind, checks: checks, claims: nil)
        }
        record(
            CheckName.qeVendor,
            quote.qeVendorID == TDXQuote.intelQEVendorID
                ? nil
                : "QE vendor id \(Hex.encode(quote.qeVendorID)) is not Intel's", ok: "Intel quoting enclave")

        // PCK chain, QE report, attestation key.
        let chain = PCKChain(der: quote.pckChain, now: now, root: root)
        record(CheckName.pckChain, chain.problem, ok: chain.summary)
        let qeReport = SGXReportBody(bytes: quote.qeReport)
        record(
            CheckName.qeReportSignature, Self.qeReportSignatureProblem(quote, leaf: chain.leaf),
            ok: "QE report signed by the PCK leaf (ECDSA P-256/SHA-256)")
        let binding = Array(SHA256.hash(data: quote.attestationKey + quote.qeAuthData))
        record(
            CheckName.qeReportData,
            Array(qeReport.reportData[0..<32]) != binding
                ? "QE report data[0:32] is not SHA-256(attestation key ‖ QE auth data)"
                : qeReport.reportData[32...].contains { $0 != 0 } ? "QE report data[32:64] is not zero" : nil,
            ok: "QE report data binds the attestation key")
        record(
            CheckName.quoteSignature, Self.quoteSignatureProblem(quote),
            ok: "quote signed by the attestation key (ECDSA P-256/SHA-256 over header and body)")

        // Collateral: revocation, TCB status.
        let tdxPolicy = expectations.policy.tdx ?? TDXPolicy()
        if let leaf = chain.leaf, let extensions = try? PCKExtensions(certificate: leaf),
            let found = collateral.first(where: { Self.tcbInfoFMSPC($0) == Hex.encode(extensions.fmspc) })
        {
            record(CheckName.collateral, nil, ok: "collateral for FMSPC \(Hex.encode(extensions.fmspc))")
            checks += CollateralEvaluation(
                quote: quote, qeReport: qeReport, chain: chain, pck: extensions, collateral: found,
                policy: tdxPolicy, now: now, root: root
            ).checks()
        } else {
            let fmspc = chain.leaf.flatMap { try? PCKExtensions(certificate: $0) }.map { Hex.encode($0.fmspc) }
            let missing =
                "no collateral for FMSPC \(fmspc ?? "(unreadable PCK extensions)"): TCB status and revocation unknown"
            if tdxPolicy.allowMissingCollateral == true, fmspc != nil {
                record(CheckName.collateral, nil, ok: "NOT CHECKED (allowed by policy): " + missing)
            } else {
                record(CheckName.collateral, missing, ok: "")
            }
        }

        // Policy.
        let body = quote.body
        record(
            CheckName.reportData,
            body.reportData == expectations.reportData
                ? nil
                : "report data \(Hex.encode(body.reportData.prefix(8)))… differs from the expected "
                    + "\(Hex.encode(expectations.reportData.prefix(8)))…",
            ok: "report data matches the expected binding")
        if expectations.measurements.isEmpty {
            record(CheckName.measurement, "the policy accepts no MRTD", ok: "")
        } else {
            record(
                CheckName.measurement,
                expectations.measurements.contains(body.mrTD)
                    ? nil
                    : "MRTD \(Hex.encode(body.mrTD)) is not among the \(expectations.measurements.count) accepted",
                ok: "MRTD \(Hex.encode(body.mrTD)) is accepted")
        }
        let attributes = Hex.encode(body.tdAttributes)
        if body.debug && !expectations.policy.allowDebug {
            record(
                CheckName.debug, "TD_ATTRIBUTES \(attributes) has the DEBUG bit set and the policy forbids it", ok: "")
        } else {
            record(
                CheckName.debug, nil,
                ok: body.debug ? "debug TD (\(attributes)), permitted by the policy" : "not a debug TD (\(attributes))")
        }
        checks += Self.policyChecks(body, policy: tdxPolicy)
        if let binding = ConfigurationBinding.check(
            field: "MRCONFIGID", reported: body.mrConfigID, expected: expectations.configurationDigest)
        {
            checks.append(binding)
        }

        let claims = AttestationClaims(
            measurement: Hex.encode(body.mrTD), debug: body.debug, tcb: nil,
            reportData: Hex.encode(body.reportData),
            platform: "Intel TDX (quote v\(quote.version), \(quote.bodyType == 3 ? "TD 1.5" : "TD 1.0"))")
        return VerificationResult(kind: evidence.kind, checks: checks, claims: claims)
    }

    static func policyChecks(_ body: TDXReportBody, policy: TDXPolicy) -> [VerificationResult.Check] {
        var checks: [VerificationResult.Check] = []
        func field(_ name: String, _ label: String, expected: String?, actual: [UInt8]) {
            guard let expected else { return }
            guard let wanted = Hex.decode(spaced: expected), wanted.count == actual.count else {
                checks.append(.init(name, passed: false, detail: "policy \(label) is not \(actual.count) bytes of hex"))
                return
            }
            checks.append(
                .init(
                    name, passed: wanted == actual,
                    detail: wanted == actual
                        ? "\(label) matches"
                        : "\(label) \(Hex.encode(actual)) differs from the policy's \(expected)"))
        }
        if let rtmrs = policy.rtmrs {
            if rtmrs.count > 4 {
                checks.append(
                    .init(CheckName.rtmr, passed: false, detail: "policy lists \(rtmrs.count) RTMRs; a TD has 4"))
            }
            for (index, expected) in rtmrs.prefix(4).enumerated() {
                field(CheckName.rtmr, "RTMR\(index)", expected: expected, actual: body.rtmrs[index])
            }
        }
        field(CheckName.mrConfigID, "MRCONFIGID", expected: policy.mrConfigID, actual: body.mrConfigID)
        if let seams = policy.mrSEAMs {
            let accepted = seams.contains { Hex.decode(spaced: $0) == body.mrSEAM }
            checks.append(
                .init(
                    CheckName.mrSEAM, passed: accepted,
                    detail: accepted
                        ? "MRSEAM is accepted"
                        : "MRSEAM \(Hex.encode(body.mrSEAM)) is not among the \(seams.count) accepted"))
        }
        return checks
    }

    static func qeReportSignatureProblem(_ quote: TDXQuote, leaf: X509Certificate?) -> String? {
        guard let leaf else { return "no PCK leaf certificate to verify the QE report with" }
        guard case .p256(let key)? = leaf.ecdsaKey else { return "the PCK leaf does not hold a P-256 key" }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: quote.qeReportSignature),
            key.isValidSignature(signature, for: SHA256.hash(data: quote.qeReport))
        else { return "QE report signature does not verify with the PCK leaf key" }
        return nil
    }

    static func quoteSignatureProblem(_ quote: TDXQuote) -> String? {
        guard let key = try? P256.Signing.PublicKey(rawRepresentation: quote.attestationKey) else {
            return "attestation key is not a P-256 point"
        }
        guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: quote.quoteSignature),
            key.isValidSignature(signature, for: SHA256.hash(data: quote.signedBytes))
        else { return "quote signature does not verify with the attestation key" }
        return nil
    }

    /// The lower-case FMSPC a collateral's TCB Info is for, if it decodes.
    static func tcbInfoFMSPC(_ collateral: TDXCollateral) -> String? {
        (try? JSONDecoder().decode(IntelTCBInfo.self, from: Data(collateral.tcbInfo)))?.fmspc.lowercased()
    }
}
