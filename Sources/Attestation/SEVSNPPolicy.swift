/// Further SEV-SNP requirements for one role, beyond measurement, debug, minimum TCB and VMPL.
///
/// Every field is optional; each one set adds a named check (see `docs/attestation.md`). Byte
/// fields are lower-case hex. A value that cannot be right (wrong length, build over 255, a
/// version that is not "major.minor") makes its check fail rather than be skipped.
public struct SEVSNPPolicy: Sendable, Hashable, Codable {
    /// HOST_DATA (32 bytes) the host must have launched the guest with.
    public var hostData: String?
    /// FAMILY_ID (16 bytes) from the guest's ID block.
    public var familyID: String?
    /// IMAGE_ID (16 bytes) from the guest's ID block.
    public var imageID: String?
    /// Accepted CHIP_IDs (64 bytes each): pins the guest to these processors.
    public var chipIDs: [String]?
    /// The most permissive guest policy accepted: the report may not allow SMT, a migration
    /// agent or debug unless this does, must be single-socket if this is, and its ABI version
    /// must be at least this one's.
    public var maximumGuestPolicy: UInt64?
    /// The most permissive PLATFORM_INFO accepted: the report may set only bits set here.
    public var maximumPlatformInfo: UInt64?
    /// Minimum LAUNCH_TCB, component by component.
    public var minimumLaunchTCB: UInt64?
    /// Minimum firmware build (0–255), for the current and the committed firmware.
    public var minimumBuild: Int?
    /// Minimum firmware API version "major.minor", for the current and the committed firmware.
    public var minimumVersion: String?
    /// Minimum GUEST_SVN.
    public var minimumGuestSVN: UInt32?
    /// Require an ID block: ID_KEY_DIGEST non-zero and, if given, one of `trustedIDKeyDigests`.
    public var requireIDBlock: Bool?
    /// Accepted ID_KEY_DIGESTs (48 bytes each).
    public var trustedIDKeyDigests: [String]?
    /// Require an author key (AUTHOR_KEY_EN set) and, if given, one of `trustedAuthorKeyDigests`.
    public var requireAuthorKey: Bool?
    /// Accepted AUTHOR_KEY_DIGESTs (48 bytes each).
    public var trustedAuthorKeyDigests: [String]?

    public init(
        hostData: String? = nil, familyID: String? = nil, imageID: String? = nil, chipIDs: [String]? = nil,
        maximumGuestPolicy: UInt64? = nil, maximumPlatformInfo: UInt64? = nil, minimumLaunchTCB: UInt64? = nil,
        minimumBuild: Int? = nil, minimumVersion: String? = nil, minimumGuestSVN: UInt32? = nil,
        requireIDBlock: Bool? = nil, trustedIDKeyDigests: [String]? = nil, requireAuthorKey: Bool? = nil,
        trustedAuthorKeyDigests: [String]? = nil
    ) {
        self.hostData = hostData
        self.familyID = familyID
        self.imageID = imageID
        self.chipIDs = chipIDs
        self.maximumGuestPolicy = maximumGuestPolicy
        self.maximumPlatformInfo = maximumPlatformInfo
        self.minimumLaunchTCB = minimumLaunchTCB
        self.minimumBuild = minimumBuild
        self.minimumVersion = minimumVersion
        self.minimumGuestSVN = minimumGuestSVN
        self.requireIDBlock = requireIDBlock
        self.trustedIDKeyDigests = trustedIDKeyDigests
        self.requireAuthorKey = requireAuthorKey
        self.trustedAuthorKeyDigests = trustedAuthorKeyDigests
    }
}
