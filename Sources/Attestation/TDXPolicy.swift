/// Intel TDX requirements for one role, beyond the MRTD (the role's `measurements`), debug and
/// report data. Every field is optional; each one set adds a named check. Byte fields are hex.
public struct TDXPolicy: Sendable, Hashable, Codable {
    /// RTMR0–RTMR3 (48 bytes each); an entry that is nil or absent is not checked.
    public var rtmrs: [String?]?
    /// MRCONFIGID (48 bytes) the TD must have been launched with.
    public var mrConfigID: String?
    /// MRSEAM values (48 bytes each) of accepted TDX modules.
    public var mrSEAMs: [String]?
    /// TCB statuses accepted besides `UpToDate` (e.g. `SWHardeningNeeded`); the advisory IDs of
    /// the matching level are shown either way.
    public var acceptedTCBStatuses: [String]?
    /// The oldest collateral (TCB Info, QE Identity, CRLs) accepted, in seconds since it was issued.
    public var maximumCollateralAge: Double?
    /// Accept a quote with no collateral (TCB status and revocation unknown). Never for
    /// production; the check still shows that nothing was checked.
    public var allowMissingCollateral: Bool?

    public init(
        rtmrs: [String?]? = nil, mrConfigID: String? = nil, mrSEAMs: [String]? = nil,
        acceptedTCBStatuses: [String]? = nil, maximumCollateralAge: Double? = nil, allowMissingCollateral: Bool? = nil
    ) {
        self.rtmrs = rtmrs
        self.mrConfigID = mrConfigID
        self.mrSEAMs = mrSEAMs
        self.acceptedTCBStatuses = acceptedTCBStatuses
        self.maximumCollateralAge = maximumCollateralAge
        self.allowMissingCollateral = allowMissingCollateral
    }
}
