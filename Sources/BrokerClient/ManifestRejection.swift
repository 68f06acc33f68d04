public import Trust

/// A manifest that failed verification, with the report naming every failed check.
public struct ManifestRejection: Error, Sendable, CustomStringConvertible {
    public let report: ManifestVerificationReport

    public init(report: ManifestVerificationReport) {
        self.report = report
    }

    /// Whether the manifest was refused only because its policy accepts simulated evidence
    /// the caller did not allow: allowing it would make this manifest acceptable.
    public var refusedOnlyForSimulatedEvidence: Bool { report.failedChecks == [.simulatedEvidence] }

    public var description: String {
        "the manifest failed verification: "
            + report.results.filter { $0.passed == false }.map { "\($0.check.rawValue) (\($0.detail))" }
            .joined(separator: "; ")
    }
}
