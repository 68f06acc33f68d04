/// What a verifier must find in a piece of evidence for one key request.
public struct Expectations: Sendable, Hashable {
    /// The exact 64 bytes the report must carry (normally `ReportData.binding(…)`).
    public var reportData: [UInt8]
    /// The role's release policy (allowed kinds, debug, minimum TCB, VMPL).
    public var policy: RolePolicy
    /// Accepted measurements, with `reference-build` already resolved
    /// (see `RolePolicy.resolvedMeasurements(referenceBuild:)`). Empty accepts none.
    public var measurements: [[UInt8]]

    public init(reportData: [UInt8], policy: RolePolicy, measurements: [[UInt8]]) {
        self.reportData = reportData
        self.policy = policy
        self.measurements = measurements
    }
}
