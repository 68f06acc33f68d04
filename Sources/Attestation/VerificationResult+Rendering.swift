import Foundation

extension VerificationResult {
    /// One line per check ("✓ name: detail" / "✗ name: detail"), the claims, and the verdict.
    public func renderedText() -> String {
        var lines = checks.map { "\($0.passed ? "✓" : "✗") \($0.name): \($0.detail)" }
        if let claims {
            let tcb = claims.tcb.map { ", tcb 0x" + String($0, radix: 16) } ?? ""
            lines.append("claims: \(claims.platform); measurement \(claims.measurement); debug \(claims.debug)\(tcb)")
        }
        if passed {
            lines.append("PASS: all \(checks.count) checks passed (\(kind))")
        } else {
            lines.append("FAIL: check \"\(failedCheck?.name ?? "none")\" failed")
        }
        return lines.joined(separator: "\n")
    }

    /// The result as pretty JSON: passed, failedCheck, kind, checks, claims.
    public func renderedJSON() -> String {
        struct Rendered: Encodable {
            let passed: Bool
            let failedCheck: String?
            let kind: EvidenceKind
            let checks: [Check]
            let claims: AttestationClaims?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let rendered = Rendered(
            passed: passed, failedCheck: failedCheck?.name, kind: kind, checks: checks, claims: claims)
        // Encoding plain strings, booleans and numbers cannot fail.
        let data = (try? encoder.encode(rendered)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
