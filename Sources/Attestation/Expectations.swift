/// What a verifier must find in a piece of evidence for one key request.
public struct Expectations: Sendable, Hashable {
    /// The exact 64 bytes the report must carry (normally `ReportData.binding(…)`).
    public var reportData: [UInt8]
    /// The constraints for the kind of evidence being verified (debug, minimum TCB, VMPL, …).
    public var policy: EvidencePolicy
    /// Accepted measurements, with `reference-build` already resolved
    /// (see `EvidencePolicy.resolvedMeasurements(referenceBuild:)`). Empty accepts none.
    public var measurements: [[UInt8]]
    /// The nonce a GPU report must carry; nil means the binding to `reportData`
    /// (`GPUNonce.binding(reportData:)`).
    public var gpuNonce: [UInt8]?
    /// The role's configuration digest (`ConfigurationBinding`), when the broker knows it: a
    /// non-zero HOST_DATA / MRCONFIGID must then bind it.
    public var configurationDigest: [UInt8]?
    /// The simulated-TEE platform keys trusted for this role (its host's own), when the broker
    /// trusts keys per host; nil: any key the verifier trusts.
    public var platformKeys: [[UInt8]]?

    public init(
        reportData: [UInt8], policy: EvidencePolicy, measurements: [[UInt8]], gpuNonce: [UInt8]? = nil,
        configurationDigest: [UInt8]? = nil
    ) {
        self.configurationDigest = configurationDigest
        self.reportData = reportData
        self.policy = policy
        self.measurements = measurements
        self.gpuNonce = gpuNonce
    }

    /// The GPU nonce this request demands.
    public var expectedGPUNonce: [UInt8] { gpuNonce ?? GPUNonce.binding(reportData: reportData) }
}
