public import Foundation

/// Dispatches evidence to the verifier for its kind, after checking the role's policy allows
/// that kind at all (check `evidence-kind`).
public struct CompositeVerifier: EvidenceVerifier {
    public let verifiers: [EvidenceKind: any EvidenceVerifier]

    public init(verifiers: [EvidenceKind: any EvidenceVerifier]) {
        self.verifiers = verifiers
    }

    public func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult {
        let kind = evidence.kind
        let allowed = expectations.policy.allowedKinds
        guard allowed.contains(kind.rawValue) else {
            let detail = "kind \(kind) is not allowed for this role (allowed: \(allowed.joined(separator: ", ")))"
            return VerificationResult(
                kind: kind, checks: [.init("evidence-kind", passed: false, detail: detail)], claims: nil)
        }
        guard let verifier = verifiers[kind] else {
            let detail = "no verifier for kind \(kind) is configured"
            return VerificationResult(
                kind: kind, checks: [.init("evidence-kind", passed: false, detail: detail)], claims: nil)
        }
        var result = verifier.verify(evidence, expectations: expectations, now: now)
        result.checks.insert(.init("evidence-kind", passed: true, detail: "\(kind) is allowed for this role"), at: 0)
        return result
    }
}
