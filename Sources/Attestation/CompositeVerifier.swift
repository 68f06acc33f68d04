public import Foundation
import Sodium

/// Dispatches evidence to the verifier for its kind, and verifies composite CPU+GPU evidence
/// (`sev-snp+nvidia-gpu`, `tdx+nvidia-gpu`) as both halves: accepted only when both pass.
///
/// The broker enters through `verify(_:role:reportData:gpuNonce:now:)`, which first checks the
/// role's policy accepts the kind at all (check `evidence-kind`) and takes that kind's
/// constraints.
public struct CompositeVerifier: EvidenceVerifier {
    public let verifiers: [EvidenceKind: any EvidenceVerifier]

    public init(verifiers: [EvidenceKind: any EvidenceVerifier]) {
        self.verifiers = verifiers
    }

    /// Verifies `evidence` for a role: the kind must be one the role lists (and one a role may
    /// use at all), then that kind's constraints apply. `gpuNonce` nil means the binding to
    /// `reportData`.
    public func verify(
        _ evidence: Evidence, role: RolePolicy, reportData: [UInt8], gpuNonce: [UInt8]? = nil, now: Date
    ) -> VerificationResult {
        switch Self.expectations(for: evidence, role: role, reportData: reportData, gpuNonce: gpuNonce) {
        case .failure(let refusal):
            return VerificationResult(kind: evidence.kind, checks: [refusal.check], claims: nil)
        case .success(let expectations):
            var result = verify(evidence, expectations: expectations, now: now)
            result.checks.insert(
                .init("evidence-kind", passed: true, detail: "\(evidence.kind) is allowed for this role"), at: 0)
            return result
        }
    }

    /// Why a role's policy refuses a kind before any verifier runs.
    public struct KindRefusal: Error {
        public let name = "evidence-kind"
        public let detail: String
        var check: VerificationResult.Check { .init(name, passed: false, detail: detail) }
    }

    /// The expectations for `evidence` under a role's policy: that kind's constraints, or a
    /// refusal when the role does not list the kind (or the kind cannot attest a role alone).
    public static func expectations(
        for evidence: Evidence, role: RolePolicy, reportData: [UInt8], gpuNonce: [UInt8]?,
        configurationDigest: [UInt8]? = nil
    ) -> Result<Expectations, KindRefusal> {
        let kind = evidence.kind
        guard let constraints = role.evidence[kind.rawValue] else {
            return .failure(
                KindRefusal(
                    detail:
                        "kind \(kind) is not allowed for this role (allowed: \(role.allowedKinds.joined(separator: ", ")))"
                ))
        }
        guard EvidenceKind.roleKinds.contains(kind) else {
            return .failure(KindRefusal(detail: "kind \(kind) cannot attest a role on its own"))
        }
        // Entries are hex after validation; one that is not can match nothing.
        let measurements = constraints.measurements.compactMap { Hex.decode(spaced: $0) }
        return .success(
            Expectations(
                reportData: reportData, policy: constraints, measurements: measurements, gpuNonce: gpuNonce,
                configurationDigest: configurationDigest))
    }

    public func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult {
        let kind = evidence.kind
        let parts = kind.components
        guard parts.count == 2 else {
            guard let verifier = verifiers[kind], evidence.components.isEmpty else {
                let detail =
                    evidence.components.isEmpty
                    ? "no verifier for kind \(kind) is configured" : "\(kind) evidence cannot have components"
                return VerificationResult(
                    kind: kind, checks: [.init("evidence-kind", passed: false, detail: detail)], claims: nil)
            }
            return verifier.verify(evidence, expectations: expectations, now: now)
        }
        return verifyComposite(evidence, cpuKind: parts[0], deviceKind: parts[1], expectations: expectations, now: now)
    }

    private func verifyComposite(
        _ evidence: Evidence, cpuKind: EvidenceKind, deviceKind: EvidenceKind, expectations: Expectations, now: Date
    ) -> VerificationResult {
        let kind = evidence.kind
        let unsupported = expectations.policy.unsupportedFields(for: kind)
        var checks: [VerificationResult.Check] = [
            unsupported.isEmpty
                ? .init("policy-constraints", passed: true, detail: "every constraint applies to \(kind) evidence")
                : .init(
                    "policy-constraints", passed: false,
                    detail: "\(unsupported.joined(separator: ", ")) cannot be checked on \(kind) evidence")
        ]
        guard deviceKind == .nvidiaGPU, cpuKind == .sevSNP || cpuKind == .tdx,
            let cpuVerifier = verifiers[cpuKind], let gpuVerifier = verifiers[.nvidiaGPU]
        else {
            checks.append(.init("evidence-kind", passed: false, detail: "no verifier for composite kind \(kind)"))
            return VerificationResult(kind: kind, checks: checks, claims: nil)
        }
        let found = evidence.components.map(\.kind.rawValue)
        guard found == [cpuKind.rawValue, deviceKind.rawValue], evidence.report.isEmpty,
            evidence.certificates.isEmpty, evidence.components.allSatisfy({ $0.components.isEmpty })
        else {
            checks.append(
                .init(
                    "composite-format", passed: false,
                    detail:
                        "\(kind) evidence must be exactly a \(cpuKind) report and a \(deviceKind) report, "
                        + "has [\(found.joined(separator: ", "))]"
                ))
            return VerificationResult(kind: kind, checks: checks, claims: nil)
        }
        checks.append(.init("composite-format", passed: true, detail: "\(cpuKind) report and \(deviceKind) report"))

        var cpuExpectations = expectations
        cpuExpectations.policy = expectations.policy.restricted(to: cpuKind)
        let cpu = cpuVerifier.verify(evidence.components[0], expectations: cpuExpectations, now: now)
        // The GPU's nonce is bound to the CPU report's data: the expected nonce derives from the
        // very report data the CPU report must carry (`GPUNonce.binding`), unless a test supplies it.
        var gpuExpectations = expectations
        gpuExpectations.policy = expectations.policy.restricted(to: deviceKind)
        gpuExpectations.measurements = []
        let gpu = gpuVerifier.verify(evidence.components[1], expectations: gpuExpectations, now: now)
        checks += cpu.checks + gpu.checks
        var claims = cpu.claims
        if let gpuPlatform = gpu.claims?.platform { claims?.platform += " + " + gpuPlatform }
        return VerificationResult(kind: kind, checks: checks, claims: claims)
    }
}
