import Crypto
public import Foundation
import Sodium

/// Verifies an NVIDIA GPU's SPDM measurement report: the device certificate chain to the pinned
/// NVIDIA Device Identity CA, the ECDSA P-384 signature over the request and response, the
/// request nonce, the leaf's FWID against the report's, the confidential-computing feature
/// flag, and the reference measurements (the policy's, and NVIDIA's signed RIMs) and versions.
///
/// `evidence.report` is the request ‖ response bytes; `evidence.certificates` the DER chain,
/// leaf first (the root may end it).
public struct NVIDIAGPUVerifier: EvidenceVerifier {
    /// SHA-256 of the DER of the NVIDIA Device Identity CA.
    public static let pinnedRootFingerprint = "102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48"
    /// TCG DICE TcbInfo (its FWID list ends with the firmware digest).
    static let diceTCBInfoOID = "2.23.133.5.4.1"

    public enum CheckName {
        public static let reportFormat = "gpu-report-format"
        public static let chain = "gpu-chain"
        public static let signature = "gpu-signature"
        public static let nonce = "gpu-nonce"
        public static let fwid = "gpu-fwid"
        public static let ccMode = "gpu-cc-mode"
        public static let rim = "gpu-rim"
        public static let measurements = "gpu-measurements"
        public static let versions = "gpu-versions"
    }

    static let deviceRoot: X509Certificate = PinnedRoot.load(
        base64: """
            MIICCzCCAZCgAwIBAgIQLTZwscoQBBHB/sDoKgZbVDAKBggqhkjOPQQDAzA1MSIwIAYDVQQDDBlOVklESUEgRGV2aWNlIElkZW50
            aXR5IENBMQ8wDQYDVQQKDAZOVklESUEwIBcNMjExMTA1MDAwMDAwWhgPOTk5OTEyMzEyMzU5NTlaMDUxIjAgBgNVBAMMGU5WSURJ
            QSBEZXZpY2UgSWRlbnRpdHkgQ0ExDzANBgNVBAoMBk5WSURJQTB2MBAGByqGSM49AgEGBSuBBAAiA2IABA5MFKM7+KViZljbQSlg
            fky/RRnEQScW9NDZF8SXgAW96r6u/Ve8ZggtcYpPi2BS4VFu6KfEIrhN6FcHG7WP05W+oM+hxj7nyA1r1jkB2Ry70YfThX3Ba1zO
            ryOP+MJ9vaNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFFeF/4PyY8xlfWi3Olv0jUrL+0lf
            MB8GA1UdIwQYMBaAFFeF/4PyY8xlfWi3Olv0jUrL+0lfMAoGCCqGSM49BAMDA2kAMGYCMQCPeFM3TASsKQVaT+8S0sO9u97PVGCp
            E9d/I42IT7k3UUOLSR/qvJynVOD1vQKVXf0CMQC+EY55WYoDBvs2wPAH1Gw4LbcwUN8QCff8bFmV4ZxjCRr4WXTLFHBKjbfneGSB
            WwA=
            """, fingerprint: pinnedRootFingerprint)

    /// Revocation lists for the device chain (NVIDIA publishes CRLs for its intermediates).
    let crls: [CertificateRevocationList]
    /// Reference integrity manifests (driver and VBIOS) whose active measurements the report must
    /// match, besides the policy's `referenceMeasurements`.
    let rims: [NVIDIARIM]
    /// The trust anchor of the device chain: always the pinned NVIDIA Device Identity CA, except in
    /// tests (see `init(crls:testRoot:)`).
    let root: X509Certificate

    /// - Parameter crls: DER CRLs for the device chain; a certificate one of them lists (by its
    ///   issuer) fails `gpu-chain`. CRLs that do not parse are refused here.
    /// - Parameter rims: NVIDIA's driver and VBIOS RIMs; their signatures are checked at
    ///   verification time (`gpu-rim`) and their active measurements checked (`gpu-measurements`).
    public init(crls: [[UInt8]] = [], rims: [NVIDIARIM] = []) throws(AttestationError) {
        self.crls = try crls.map { der throws(AttestationError) in try CertificateRevocationList(derEncoded: der) }
        self.rims = rims
        root = Self.deviceRoot
    }

    /// A verifier anchored at `testRoot` instead of the pinned root, so tests can sign reports that
    /// differ from a valid one in exactly one fact. `internal`: reachable only through
    /// `@testable import`, never from the command, a topology or any public API.
    init(
        crls: [CertificateRevocationList] = [], rims: [NVIDIARIM] = [], testRoot: X509Certificate
    ) {
        self.crls = crls
        self.rims = rims
        root = testRoot
    }

    /// The verifier without revocation lists.
    public init() {
        crls = []
        rims = []
        root = Self.deviceRoot
    }

    public func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult {
        var checks: [VerificationResult.Check] = [expectations.policy.constraintsCheck(for: .nvidiaGPU)]
        func record(_ name: String, _ problem: String?, ok: @autoclosure () -> String) {
            checks.append(.init(name, passed: problem == nil, detail: problem ?? ok()))
        }
        let report: SPDMMeasurements
        do {
            report = try SPDMMeasurements(bytes: evidence.report)
            record(
                CheckName.reportFormat, nil,
                ok: "SPDM MEASUREMENTS with \(report.blocks.count) blocks, \(report.opaque.count) opaque fields"
                    + (report.trailingPadding > 0 ? ", \(report.trailingPadding) NUL padding bytes ignored" : ""))
        } catch {
            record(CheckName.reportFormat, "\(error)", ok: "")
            return VerificationResult(kind: evidence.kind, checks: checks, claims: nil)
        }

        var leaf: X509Certificate?
        switch CertificateChain.verify(
            evidence.certificates, root: root, now: now, crls: crls, what: "GPU certificate chain")
        {
        case .failure(let error):
            record(CheckName.chain, error.description, ok: "")
        case .success(let certificates):
            leaf = certificates.first
            let names = certificates.map(\.displayName).joined(separator: " ← ")
            record(
                CheckName.chain,
                certificates.first?.isCertificateAuthority == true ? "the GPU leaf is a CA certificate" : nil,
                ok: "\(names) ← pinned \(root.subjectCommonName ?? "root")")
        }

        if case .p384(let key)? = leaf?.ecdsaKey {
            let valid =
                (try? P384.Signing.ECDSASignature(rawRepresentation: report.signature)).map {
                    key.isValidSignature($0, for: SHA384.hash(data: report.signedBytes))
                } ?? false
            record(
                CheckName.signature, valid ? nil : "report signature does not verify with the GPU leaf key",
                ok: "ECDSA P-384/SHA-384 over request and response verifies with the leaf key")
        } else {
            record(CheckName.signature, "no verified P-384 GPU leaf key to check the signature with", ok: "")
        }

        let wanted = expectations.expectedGPUNonce
        record(
            CheckName.nonce,
            report.requestNonce == wanted
                ? nil
                : "request nonce \(Hex.encode(report.requestNonce.prefix(8)))… is not the expected "
                    + "\(Hex.encode(wanted.prefix(8)))…",
            ok: "request nonce is the expected one")

        let reportFWID = report.opaque[SPDMMeasurements.fwid]
        let leafFWID = leaf.flatMap { $0.extensions[Self.diceTCBInfoOID] }.map { Array($0.suffix(48)) }
        record(
            CheckName.fwid,
            leafFWID == nil
                ? "the GPU leaf has no FWID (\(Self.diceTCBInfoOID))"
                : reportFWID != leafFWID ? "report FWID differs from the leaf certificate's" : nil,
            ok: "report FWID \(Hex.encode((reportFWID ?? []).prefix(8)))… matches the leaf certificate")

        // Hopper reports before the feature flag field do not sign the CC mode; when present it
        // must name a CC mode (0 single-GPU, 1 multi-GPU, 2 protected PCIe).
        if let flag = report.opaque[SPDMMeasurements.featureFlag] {
            // A little-endian integer (one or two bytes in the reports seen so far).
            let value = flag.count <= 4 ? flag.reversed().reduce(0) { $0 << 8 | Int($1) } : Int.max
            record(
                CheckName.ccMode, value <= 2 ? nil : "feature flag \(Hex.encode(flag)) is not a CC mode",
                ok: "CC mode \(["SPT", "MPT", "PPCIE"][min(value, 2)]) (signed feature flag)")
        } else {
            record(
                CheckName.ccMode, nil,
                ok: "report carries no CC feature flag; a device key signs only in CC or devtools mode (see docs)")
        }

        let policy = expectations.policy.nvidiaGPU ?? NVIDIAGPUPolicy()
        checks += measurementChecks(report, policy: policy, now: now)
        let driver = report.text(SPDMMeasurements.driverVersion) ?? "?"
        let vbios = report.vbiosVersionText ?? "?"
        var versionProblems: [String] = []
        if let drivers = policy.driverVersions, !drivers.contains(driver) {
            versionProblems.append("driver \(driver) is not accepted")
        }
        if let vbioses = policy.vbiosVersions, !vbioses.map({ $0.lowercased() }).contains(vbios) {
            versionProblems.append("VBIOS \(vbios) is not accepted")
        }
        record(
            CheckName.versions, versionProblems.isEmpty ? nil : versionProblems.joined(separator: "; "),
            ok: "driver \(driver), VBIOS \(vbios)")

        let claims = AttestationClaims(
            measurement: Hex.encode(SHA384.hash(data: report.blocks.flatMap(\.value))), debug: false, tcb: nil,
            reportData: Hex.encode(report.requestNonce),
            platform: "NVIDIA GPU (\(leaf?.subjectCommonName ?? "unknown device"), driver \(driver), VBIOS \(vbios))")
        return VerificationResult(kind: evidence.kind, checks: checks, claims: claims)
    }
}

extension NVIDIAGPUVerifier {
    /// `gpu-rim` (when RIMs are given) and `gpu-measurements`: every reference the policy lists
    /// and every active measurement of the RIMs must be in the report with an accepted value.
    func measurementChecks(_ report: SPDMMeasurements, policy: NVIDIAGPUPolicy, now: Date)
        -> [VerificationResult.Check]
    {
        var checks: [VerificationResult.Check] = []
        var references: [(source: String, block: String, accepted: [String])] = []
        for (key, accepted) in (policy.referenceMeasurements ?? [:]).sorted(by: { $0.key < $1.key }) {
            references.append(("policy", key, accepted))
        }
        if !rims.isEmpty {
            var problems = rims.compactMap { rim in
                rim.signatureProblem(now: now).map { "RIM \(rim.version): \($0)" }
            }
            do {
                for (key, accepted) in try NVIDIARIM.referenceMeasurements(rims) {
                    references.append(("RIM", key, accepted))
                }
            } catch {
                problems.append("\(error)")
            }
            let names = rims.map { "\($0.product) \($0.version)" }.joined(separator: ", ")
            checks.append(
                .init(
                    CheckName.rim, passed: problems.isEmpty,
                    detail: problems.isEmpty
                        ? "RIMs \(names) signed by a chain to the pinned NVIDIA CoRIM signing Root CA"
                        : problems.joined(separator: "; ")))
        }
        guard !references.isEmpty else {
            checks.append(.init(CheckName.measurements, passed: true, detail: "no reference measurements; not checked"))
            return checks
        }
        var problems: [String] = []
        for reference in references.sorted(by: { (Int($0.block) ?? 0, $0.source) < (Int($1.block) ?? 0, $1.source) }) {
            guard let index = UInt8(reference.block), let block = report.blocks.first(where: { $0.index == index })
            else {
                problems.append("block \(reference.block) (\(reference.source)) is not in the report")
                continue
            }
            if !reference.accepted.contains(where: { Hex.decode(spaced: $0) == block.value }) {
                problems.append(
                    "block \(reference.block) \(Hex.encode(block.value.prefix(8)))… matches no \(reference.source) "
                        + "reference value")
            }
        }
        checks.append(
            .init(
                CheckName.measurements, passed: problems.isEmpty,
                detail: problems.isEmpty
                    ? "\(references.count) measurement blocks match their reference values"
                    : problems.joined(separator: "; ")))
        return checks
    }
}
