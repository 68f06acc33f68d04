public import Attestation
public import Foundation

/// Which evidence a stage node presents, chosen from what its role's policy accepts and what
/// the machine can produce — never from a flag, so a production node cannot be talked into a
/// weaker kind than its policy demands.
///
/// Order: hardware first. If the policy accepts a hardware kind and this machine has the Linux
/// configfs-tsm interface, the node asks the TEE for a report (SEV-SNP today, TDX through the
/// same interface once its provider exists). Otherwise, if the policy accepts the simulated TEE
/// and a platform key is on this host, the node uses it (and says SIMULATED, loudly). Otherwise it
/// refuses to start, naming what the policy demands and what is missing: it does not try its luck
/// with evidence the broker would refuse anyway.
public enum NodeEvidence {
    public enum Failure: Error, CustomStringConvertible, Equatable {
        case noProvider(role: String, accepted: [String], missing: String)

        public var description: String {
            switch self {
            case .noProvider(let role, let accepted, let missing):
                "role \(role) accepts evidence of kind \(accepted.joined(separator: ", ")), but this host cannot produce it: \(missing)"
            }
        }
    }

    /// The hardware kinds a node can collect through configfs-tsm, with the guest device each
    /// kind's kernel driver creates (which tells the two apart when a policy accepts both).
    static let configFSKinds: [(kind: EvidenceKind, device: String)] = [
        (.sevSNP, "/dev/sev-guest"), (.tdx, "/dev/tdx_guest"),
    ]

    /// The provider for `role` under `policy`.
    /// - Parameters:
    ///   - measuredConfiguration: the role's configuration bytes, measured by the simulated TEE.
    ///   - platformKeyFile: where this host's simulated-TEE platform key would be.
    public static func provider(
        role: String, policy: RolePolicy, measuredConfiguration: [UInt8], platformKeyFile: URL, warn: (String) -> Void
    ) throws -> any EvidenceProvider {
        try provider(
            role: role, policy: policy, measuredConfiguration: measuredConfiguration, platformKeyFile: platformKeyFile,
            configFSRoot: ConfigFSTSMProvider.defaultRoot, warn: warn)
    }

    /// As above, with the configfs-tsm root passed in: `internal`, so only a test (through
    /// `@testable import`) can point a node at a stand-in tree; production always uses the kernel's.
    static func provider(
        role: String, policy: RolePolicy, measuredConfiguration: [UInt8], platformKeyFile: URL, configFSRoot: URL,
        warn: (String) -> Void
    ) throws -> any EvidenceProvider {
        let accepted = policy.allowedKinds
        let hardware = configFSKinds.filter { accepted.contains($0.kind.rawValue) }
        var missing: [String] = []
        if !hardware.isEmpty {
            if FileManager.default.fileExists(atPath: configFSRoot.path) {
                let kind =
                    hardware.count == 1
                    ? hardware[0].kind
                    : (hardware.first { FileManager.default.fileExists(atPath: $0.device) } ?? hardware[0]).kind
                return ConfigFSTSMProvider(
                    root: configFSRoot, privilegeLevel: policy.evidence[kind.rawValue]?.vmpl, kind: kind)
            }
            missing.append("no configfs-tsm report interface at \(configFSRoot.path) (not a confidential VM guest?)")
        }
        let unsupported = accepted.filter { kind in
            kind != EvidenceKind.simulated.rawValue && !configFSKinds.contains { $0.kind.rawValue == kind }
        }
        if !unsupported.isEmpty {
            missing.append("this build cannot collect \(unsupported.joined(separator: ", ")) evidence on a node")
        }
        if accepted.contains(EvidenceKind.simulated.rawValue) {
            if FileManager.default.fileExists(atPath: platformKeyFile.path) {
                let platformKey = try PlatformKey.load(from: platformKeyFile)
                return try SimulatedEvidenceProvider(
                    platformKey: platformKey, configuration: measuredConfiguration, warn: warn)
            }
            missing.append("no simulated-TEE platform key at \(platformKeyFile.path)")
        }
        throw Failure.noProvider(role: role, accepted: accepted, missing: missing.joined(separator: "; "))
    }
}
