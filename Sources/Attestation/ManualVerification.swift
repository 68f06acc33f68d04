public import Foundation
import Sodium

/// Verification as an operator runs it by hand (`sealpipe evidence verify`): expectations they
/// did not give are reported as "not checked" rather than silently assumed.
public enum ManualVerification {
    /// Verifies `evidence`; a nil `measurements` or `reportData` turns that check into a passed
    /// "not checked" line that shows what the report holds.
    public static func verify(
        _ evidence: Evidence, with verifier: any EvidenceVerifier, measurements: [[UInt8]]?, reportData: [UInt8]?,
        gpuNonce: [UInt8]? = nil, policy: EvidencePolicy, now: Date
    ) -> VerificationResult {
        var measuredPolicy = policy
        if let measurements { measuredPolicy.measurements = measurements.map { Hex.encode($0) } }
        let expectations = Expectations(
            reportData: reportData ?? [], policy: measuredPolicy, measurements: measurements ?? [],
            gpuNonce: gpuNonce ?? [])
        var result = verifier.verify(evidence, expectations: expectations, now: now)
        guard let claims = result.claims else { return result }
        for index in result.checks.indices {
            // Keep a verifier's "[SIMULATED] " marker on every line it made.
            let tag = result.checks[index].detail.hasPrefix("[SIMULATED] ") ? "[SIMULATED] " : ""
            switch result.checks[index].name {
            case "measurement" where measurements == nil:
                result.checks[index] = .init(
                    "measurement", passed: true,
                    detail: tag + "not checked (no --measurement given); report has \(claims.measurement)")
            case "report-data" where reportData == nil:
                result.checks[index] = .init(
                    "report-data", passed: true,
                    detail: tag + "not checked (no --report-data given); report has \(claims.reportData)")
            case "gpu-nonce" where gpuNonce == nil:
                // The GPU verifier's claims carry the request nonce as their report data.
                result.checks[index] = .init(
                    "gpu-nonce", passed: true, detail: "not checked (no --nonce given); report has \(claims.reportData)"
                )
            default:
                break
            }
        }
        return result
    }

    /// A report file's bytes: raw binary, or hex text (whitespace ignored) as some tools write it.
    public static func reportBytes(fromFile contents: [UInt8]) -> [UInt8] {
        let isHexText =
            !contents.isEmpty
            && contents.allSatisfy {
                (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0)
                    || $0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09
            }
        if isHexText, let decoded = Hex.decode(spaced: String(decoding: contents, as: UTF8.self)) { return decoded }
        return contents
    }
}
