/// The outcome of verifying one piece of evidence: every check made, in order.
///
/// The evidence is accepted only if there is at least one check and all of them passed.
public struct VerificationResult: Sendable, Hashable, Codable {
    /// One named check (`signature`, `measurement`, …) and what it found.
    public struct Check: Sendable, Hashable, Codable {
        public var name: String
        public var passed: Bool
        public var detail: String

        public init(_ name: String, passed: Bool, detail: String) {
            self.name = name
            self.passed = passed
            self.detail = detail
        }
    }

    public var kind: EvidenceKind
    public var checks: [Check]
    /// What the report claims. Present whenever the report could be parsed, so an operator can
    /// see what a refused node runs; trust it only when `passed` (see `trustedClaims`).
    public var claims: AttestationClaims?

    public init(kind: EvidenceKind, checks: [Check], claims: AttestationClaims?) {
        self.kind = kind
        self.checks = checks
        self.claims = claims
    }

    /// True only when at least one check ran and every check passed.
    public var passed: Bool { !checks.isEmpty && checks.allSatisfy(\.passed) }

    /// The first check that failed, if any.
    public var failedCheck: Check? { checks.first { !$0.passed } }

    /// The claims, but only when every check passed.
    public var trustedClaims: AttestationClaims? { passed ? claims : nil }

    /// The check with this name, if it was made.
    public func check(named name: String) -> Check? { checks.first { $0.name == name } }
}

/// The facts a verified report establishes about the node.
public struct AttestationClaims: Sendable, Hashable, Codable {
    /// Lower-case hex of the launch measurement.
    public var measurement: String
    /// Whether the guest is debuggable (its memory readable by the host).
    public var debug: Bool
    /// The TCB version the platform reported (SEV-SNP reported TCB), if the kind has one.
    public var tcb: UInt64?
    /// Lower-case hex of the 64 report-data bytes.
    public var reportData: String
    /// A human description of the platform, e.g. "AMD SEV-SNP (VCEK)" or a simulation warning.
    public var platform: String

    public init(measurement: String, debug: Bool, tcb: UInt64?, reportData: String, platform: String) {
        self.measurement = measurement
        self.debug = debug
        self.tcb = tcb
        self.reportData = reportData
        self.platform = platform
    }
}
