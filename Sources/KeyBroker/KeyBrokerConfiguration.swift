public import Attestation
public import Foundation
import Sodium

/// Everything the broker needs, built by the command from the topology (the broker does not
/// depend on the pipeline module). Also readable from JSON for `sealpipe kms --config`.
public struct KeyBrokerConfiguration: Sendable, Codable, Hashable {
    /// One attested role and the roles it exchanges messages with.
    public struct Role: Sendable, Codable, Hashable {
        public var name: String
        /// Roles this one receives from and sends to (their public keys go into its bundle).
        public var neighbours: [String]
        /// A worker with its own sealed weight shard.
        public var hasWeightShard: Bool
        /// The simulated-TEE platform keys (hex) trusted for this role: its host's own, when the
        /// topology gives each host a key. Nil: every key in `trustedPlatformKeys`.
        public var platformKeys: [String]?

        public init(name: String, neighbours: [String], hasWeightShard: Bool = false, platformKeys: [String]? = nil) {
            self.name = name
            self.neighbours = neighbours
            self.hasWeightShard = hasWeightShard
            self.platformKeys = platformKeys
        }
    }

    public var pipelineID: String
    /// ZeroMQ endpoint the broker binds (`tcp://127.0.0.1:0` picks a port).
    public var endpoint: String
    /// SQLite file holding the broker's state.
    public var statePath: String
    /// File with the 32-byte root key (mode 0600).
    public var rootKeyPath: String
    /// Attested roles in pipeline order.
    public var roles: [Role]
    /// The role clients seal requests to (first in the pipeline).
    public var frontRole: String
    /// The role whose signature a client checks on results (the postprocessor).
    public var resultRole: String
    public var policy: ReleasePolicy
    public var epochSeconds: Double
    /// How long after an epoch ends its keys are still handed out and accepted.
    public var graceSeconds: Double
    public var manifestTTLSeconds: Double
    public var nonceTTLSeconds: Double
    /// Hex Ed25519 public keys of simulated-TEE platforms the broker trusts.
    public var trustedPlatformKeys: [String]
    /// Role → hex measurement that `reference-build` in the policy stands for.
    public var referenceMeasurements: [String: String]
    /// The offline collateral cache (`sealpipe collateral import`) TDX quotes are verified with;
    /// nil means none, so TDX evidence is refused unless a policy allows missing collateral.
    public var collateralDirectory: String?
    /// Role → hex configuration digest (`ConfigurationBinding.digest`): a report's non-zero
    /// HOST_DATA (SEV-SNP) or MRCONFIGID (TDX) must bind it.
    public var configurationDigests: [String: String]?
    /// SHA-256 (lower-case hex) of the topology file every node must run, or `nil` to pin none.
    /// Set from the broker's own topology, so a node started from an edited file gets no keys.
    public var topologyDigest: String?

    public init(
        pipelineID: String, endpoint: String, statePath: String, rootKeyPath: String, roles: [Role], frontRole: String,
        resultRole: String, policy: ReleasePolicy, epochSeconds: Double = 3600, graceSeconds: Double = 300,
        manifestTTLSeconds: Double = 600, nonceTTLSeconds: Double = 60, trustedPlatformKeys: [String] = [],
        referenceMeasurements: [String: String] = [:], collateralDirectory: String? = nil
    ) {
        self.collateralDirectory = collateralDirectory
        self.pipelineID = pipelineID
        self.endpoint = endpoint
        self.statePath = statePath
        self.rootKeyPath = rootKeyPath
        self.roles = roles
        self.frontRole = frontRole
        self.resultRole = resultRole
        self.policy = policy
        self.epochSeconds = epochSeconds
        self.graceSeconds = graceSeconds
        self.manifestTTLSeconds = manifestTTLSeconds
        self.nonceTTLSeconds = nonceTTLSeconds
        self.trustedPlatformKeys = trustedPlatformKeys
        self.referenceMeasurements = referenceMeasurements
    }

    /// Longest role name, in UTF-8 bytes.
    public static let maximumRoleNameBytes = 128

    /// The role named `name`, if attested.
    public func role(_ name: String) -> Role? { roles.first { $0.name == name } }

    /// Checks the configuration hangs together; names the first problem.
    public func validate() throws(KeyBrokerError) {
        guard !roles.isEmpty else { throw .configuration("roles: none given") }
        // Role names go into log entries and log lines: short and printable.
        for (i, role) in roles.enumerated()
        where !(1...Self.maximumRoleNameBytes).contains(role.name.utf8.count)
            || role.name.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F })
        {
            throw .configuration(
                "roles[\(i)].name: must be 1-\(Self.maximumRoleNameBytes) bytes without spaces or control characters")
        }
        let names = Set(roles.map(\.name))
        guard names.count == roles.count else { throw .configuration("roles: duplicate role name") }
        guard names.contains(frontRole) else { throw .configuration("frontRole: \(frontRole) is not a role") }
        guard names.contains(resultRole) else { throw .configuration("resultRole: \(resultRole) is not a role") }
        for (i, role) in roles.enumerated() {
            for neighbour in role.neighbours where !names.contains(neighbour) {
                throw .configuration("roles[\(i)].neighbours: \(neighbour) is not a role")
            }
            guard let rolePolicy = policy.roles[role.name] else {
                throw .configuration("policy: no entry for role \(role.name)")
            }
            guard !rolePolicy.evidence.isEmpty else {
                throw .configuration("policy.\(role.name).evidence: lists no evidence kind")
            }
            for (kind, constraints) in rolePolicy.evidence.sorted(by: { $0.key < $1.key }) {
                let evidenceKind = EvidenceKind(rawValue: kind)
                guard EvidenceKind.roleKinds.contains(evidenceKind) else {
                    throw .configuration("policy.\(role.name).evidence.\(kind): not an evidence kind a role can use")
                }
                if let field = constraints.unsupportedFields(for: evidenceKind).first {
                    throw .configuration(
                        "policy.\(role.name).evidence.\(kind).\(field): cannot be checked on \(kind) evidence")
                }
            }
        }
        guard epochSeconds >= 1 else { throw .configuration("epochSeconds: \(epochSeconds) is below 1") }
        guard graceSeconds >= 0, graceSeconds <= epochSeconds else {
            throw .configuration("graceSeconds: \(graceSeconds) must be between 0 and epochSeconds")
        }
        guard manifestTTLSeconds > 0 else { throw .configuration("manifestTTLSeconds: must be positive") }
        guard nonceTTLSeconds > 0 else { throw .configuration("nonceTTLSeconds: must be positive") }
    }

    /// The policy with `reference-build` replaced by each role's reference measurement, and NVIDIA
    /// RIM files (`nvidiaGPU.referenceManifests`) read into reference values: what the broker
    /// enforces and logs.
    public func resolvedPolicy() throws(KeyBrokerError) -> ReleasePolicy {
        var resolved = policy
        for (name, rolePolicy) in policy.roles {
            let reference = referenceMeasurements[name].flatMap { Hex.decode($0.lowercased()) }
            for (kind, constraints) in rolePolicy.evidence {
                do {
                    let measurements = try constraints.resolvedMeasurements(referenceBuild: reference)
                    resolved.roles[name]!.evidence[kind]!.measurements = measurements.map { Hex.encode($0) }
                } catch {
                    throw .configuration("policy.\(name).evidence.\(kind).measurements: \(error)")
                }
                // RIM files become reference values once, at start, with their signatures checked.
                if let gpu = constraints.nvidiaGPU, gpu.referenceManifests?.isEmpty == false {
                    do {
                        resolved.roles[name]!.evidence[kind]!.nvidiaGPU = try gpu.resolvingManifests(now: Date()) {
                            [UInt8](try Data(contentsOf: URL(fileURLWithPath: $0)))
                        }
                    } catch {
                        throw .configuration("policy.\(name).evidence.\(kind).nvidiaGPU.referenceManifests: \(error)")
                    }
                }
            }
        }
        return resolved
    }

    /// Fills `referenceMeasurements` for every role whose policy says `reference-build`, with
    /// `compute(role)` (normally the simulated TEE's measurement of this build with the role's
    /// stage configuration).
    public mutating func resolveReferenceMeasurements(_ compute: (String) throws -> [UInt8]) rethrows {
        for (role, rolePolicy) in policy.roles
        where rolePolicy.evidence.values.contains(where: { $0.measurements.contains(EvidencePolicy.referenceBuild) }) {
            referenceMeasurements[role] = Hex.encode(try compute(role))
        }
    }

    /// Reads a configuration written as JSON (the `Codable` form of this type).
    public static func load(from url: URL) throws -> KeyBrokerConfiguration {
        try JSONDecoder().decode(KeyBrokerConfiguration.self, from: Data(contentsOf: url))
    }
}
