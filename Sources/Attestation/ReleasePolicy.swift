import Foundation

/// What the key broker demands of a node before it releases a role's keys.
///
/// Decoded from the topology file's `kms.policy` section; every check here is applied by the
/// broker and fails closed.
public struct ReleasePolicy: Sendable, Hashable, Codable {
    /// Policies by role name (`gateway`, `preprocessor`, `shard-0`, …, `postprocessor`).
    public var roles: [String: RolePolicy]
    /// The stage roles in pipeline order, front stage first: the path every job takes, which a
    /// receipt chain must follow. `nil` in policies logged before receipts existed.
    public var path: [String]?

    public init(roles: [String: RolePolicy], path: [String]? = nil) {
        self.roles = roles
        self.path = path
    }
}

/// The evidence a single role must present: each accepted kind with its own constraints.
///
/// Constraints are per kind so that a weaker kind can never satisfy a stronger kind's policy:
/// a TCB floor written for `sev-snp` says nothing about `simulated`, and a policy that attaches a
/// constraint to a kind that cannot carry it is refused (topology validation, and again by the
/// verifier, which refuses evidence whose constraints it cannot check).
public struct RolePolicy: Sendable, Hashable, Codable {
    /// Evidence kind (`simulated`, `sev-snp`, `tdx`, `sev-snp+nvidia-gpu`, `tdx+nvidia-gpu`) →
    /// what evidence of that kind must show.
    public var evidence: [String: EvidencePolicy]
    /// Lower-case hex SHA-256 of the role's model shard (an encoder stage's weights, as sealed):
    /// the model version this role serves. The broker hands it to the node with its keys and logs
    /// it with the release; the node refuses to serve a shard with other content.
    public var shardDigest: String?

    public init(evidence: [String: EvidencePolicy], shardDigest: String? = nil) {
        self.evidence = evidence
        self.shardDigest = shardDigest
    }

    /// The accepted kinds, sorted.
    public var allowedKinds: [String] { evidence.keys.sorted() }

    /// Every measurement any accepted kind allows, sorted and without repeats.
    public var allMeasurements: [String] { Array(Set(evidence.values.flatMap(\.measurements))).sorted() }
}

/// What evidence of one kind must show for one role.
public struct EvidencePolicy: Sendable, Hashable, Codable {
    /// Accepted measurements, lower-case hex (SEV-SNP MEASUREMENT, TDX MRTD, the simulated TEE's
    /// build measurement); the literal `reference-build` means "the measurement of the very
    /// `sealpipe` build the broker itself runs, with this role's configuration" (the simulated
    /// TEE's reference value).
    public var measurements: [String]
    /// Whether evidence from a debuggable guest is acceptable.
    public var allowDebug: Bool
    /// Minimum TCB (SEV-SNP reported TCB as a u64). SEV-SNP only.
    public var minimumTCB: UInt64?
    /// The VMPL an SEV-SNP report must have been requested at; nil means 0. SEV-SNP only.
    public var vmpl: Int?
    /// Further SEV-SNP requirements (host data, ID block, firmware version, …).
    public var sevSNP: SEVSNPPolicy?
    /// Further Intel TDX requirements (RTMRs, MRCONFIGID, TCB statuses, collateral age).
    public var tdx: TDXPolicy?
    /// NVIDIA GPU requirements (reference measurements, collateral age).
    public var nvidiaGPU: NVIDIAGPUPolicy?

    public init(
        measurements: [String], allowDebug: Bool = false, minimumTCB: UInt64? = nil, vmpl: Int? = nil,
        sevSNP: SEVSNPPolicy? = nil, tdx: TDXPolicy? = nil, nvidiaGPU: NVIDIAGPUPolicy? = nil
    ) {
        self.measurements = measurements
        self.allowDebug = allowDebug
        self.minimumTCB = minimumTCB
        self.vmpl = vmpl
        self.sevSNP = sevSNP
        self.tdx = tdx
        self.nvidiaGPU = nvidiaGPU
    }

    /// The constraints set here that evidence of `kind` cannot carry (field names as written in
    /// a topology), e.g. `minimumTCB` for `simulated`. Unknown kinds support nothing.
    public func unsupportedFields(for kind: EvidenceKind) -> [String] {
        let parts = kind.components
        func supported(_ field: String) -> Bool {
            parts.contains { Self.fields(of: $0).contains(field) }
        }
        var set: [String] = []
        if !measurements.isEmpty { set.append("measurements") }
        if allowDebug { set.append("allowDebug") }
        if minimumTCB != nil { set.append("minimumTCB") }
        if vmpl != nil { set.append("vmpl") }
        if sevSNP != nil { set.append("sevSNP") }
        if tdx != nil { set.append("tdx") }
        if nvidiaGPU != nil { set.append("nvidiaGPU") }
        return set.filter { !supported($0) }
    }

    /// The constraint fields evidence of a single (non-composite) kind can be checked against.
    static func fields(of kind: EvidenceKind) -> Set<String> {
        switch kind {
        case .simulated: ["measurements", "allowDebug"]
        case .sevSNP: ["measurements", "allowDebug", "minimumTCB", "vmpl", "sevSNP"]
        case .tdx: ["measurements", "allowDebug", "tdx"]
        case .nvidiaGPU: ["nvidiaGPU"]
        default: []
        }
    }

    /// Only the fields a single kind supports: what the verifier of one half of composite
    /// evidence is given.
    func restricted(to kind: EvidenceKind) -> EvidencePolicy {
        let fields = Self.fields(of: kind)
        return EvidencePolicy(
            measurements: fields.contains("measurements") ? measurements : [],
            allowDebug: fields.contains("allowDebug") ? allowDebug : false,
            minimumTCB: fields.contains("minimumTCB") ? minimumTCB : nil,
            vmpl: fields.contains("vmpl") ? vmpl : nil,
            sevSNP: fields.contains("sevSNP") ? sevSNP : nil,
            tdx: fields.contains("tdx") ? tdx : nil,
            nvidiaGPU: fields.contains("nvidiaGPU") ? nvidiaGPU : nil)
    }

    /// The `policy-constraints` check every verifier makes first: fails naming each constraint
    /// it cannot check on evidence of `kind`.
    func constraintsCheck(for kind: EvidenceKind) -> VerificationResult.Check {
        let unsupported = unsupportedFields(for: kind)
        return unsupported.isEmpty
            ? .init("policy-constraints", passed: true, detail: "every constraint applies to \(kind) evidence")
            : .init(
                "policy-constraints", passed: false,
                detail: "\(unsupported.joined(separator: ", ")) cannot be checked on \(kind) evidence")
    }
}

extension RolePolicy {
    /// One measurement list and debug setting for every kind in `allowedKinds`, each kept to the
    /// constraints that kind can carry (a GPU part, say, carries no measurement list).
    public init(allowedKinds: [String], measurements: [String], allowDebug: Bool = false) {
        var evidence: [String: EvidencePolicy] = [:]
        for kind in allowedKinds {
            evidence[kind] = EvidencePolicy(measurements: measurements, allowDebug: allowDebug)
                .restricted(to: EvidenceKind(rawValue: kind))
        }
        self.init(evidence: evidence)
    }
}
