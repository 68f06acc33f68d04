import Foundation

/// What the key broker demands of a node before it releases a role's keys.
///
/// Decoded from the topology file's `kms.policy` section; every check here is applied by the
/// broker and fails closed.
public struct ReleasePolicy: Sendable, Hashable, Codable {
    /// Policies by role name (`gateway`, `preprocessor`, `shard-0`, …, `postprocessor`).
    public var roles: [String: RolePolicy]

    public init(roles: [String: RolePolicy]) {
        self.roles = roles
    }
}

/// The evidence a single role must present.
public struct RolePolicy: Sendable, Hashable, Codable {
    /// Evidence kinds accepted for this role (`simulated`, `sev-snp`, …).
    public var allowedKinds: [String]
    /// Accepted measurements, lower-case hex; the literal `reference-build` means "the
    /// measurement of the very `sealpipe` build the broker itself runs, with this role's
    /// configuration" (the simulated TEE's reference value).
    public var measurements: [String]
    /// Whether evidence from a debuggable guest is acceptable.
    public var allowDebug: Bool
    /// Minimum TCB (SEV-SNP reported TCB as a u64), if any.
    public var minimumTCB: UInt64?
    /// The VMPL an SEV-SNP report must have been requested at; nil means 0 (the most privileged
    /// level, the guest kernel itself).
    public var vmpl: Int?
    /// Further SEV-SNP requirements (host data, ID block, firmware version, …), if any.
    public var sevSNP: SEVSNPPolicy?

    public init(
        allowedKinds: [String], measurements: [String], allowDebug: Bool = false, minimumTCB: UInt64? = nil,
        vmpl: Int? = nil, sevSNP: SEVSNPPolicy? = nil
    ) {
        self.allowedKinds = allowedKinds
        self.measurements = measurements
        self.allowDebug = allowDebug
        self.minimumTCB = minimumTCB
        self.vmpl = vmpl
        self.sevSNP = sevSNP
    }
}
