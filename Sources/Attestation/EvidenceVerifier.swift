public import Foundation

/// Verifies one kind of evidence against expectations, at an injected time.
///
/// Implementations never throw: every problem is a failed, named check in the result, so the
/// broker can tell the node (and its log) exactly what was refused.
public protocol EvidenceVerifier: Sendable {
    func verify(_ evidence: Evidence, expectations: Expectations, now: Date) -> VerificationResult
}

/// Collects evidence from the platform the process runs on.
public protocol EvidenceProvider: Sendable {
    var kind: EvidenceKind { get }
    /// Produces evidence whose report data is exactly `reportData` (64 bytes).
    func collect(reportData: [UInt8]) throws -> Evidence
}
