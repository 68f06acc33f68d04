import ArgumentParser
import Attestation
import BrokerClient
import Foundation
import Node
import Sodium
import Synchronization
import TimeUnits
import Topology
import Workloads
import ZeroMQ

/// `sealpipe bench attest`: how long trust takes. Many nodes attest at once to the topology's
/// running key broker, as a pipeline's replicas do when it starts, each exactly as `sealpipe
/// node` does (its role's evidence over its measured configuration, the release checked against
/// the pinned broker key, the bundle opened); p50 and p99 of the whole attestation (asking for a
/// nonce → keys held) and of the key release alone (evidence presented → keys held).
struct BenchAttestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attest",
        abstract:
            "Attestation and key-release latency (p50/p99) with many nodes attesting at once to a running key broker.",
        discussion: """
            Run it in the directory of a launched topology (`sealpipe launch`), which holds the platform key and the \
            broker's identity. Nodes take the topology's stage roles in turn.
            """)

    @OptionGroup var options: TopologyOption

    @Option(help: "Nodes attesting at once.")
    var nodes: Int = 16

    @Option(help: "Attestations per node, one after another.")
    var rounds: Int = 5

    @Option(help: "This host's simulated-TEE platform key (used only if a role's policy accepts simulated evidence).")
    var platformKey: String = ".sealpipe/platform.key"

    @Option(
        help: "The key broker's identity public key file (hex) to pin (default: kms-identity.pub beside its state).")
    var brokerKey: String?

    @Option(help: "Also write the figures as JSON to this file.")
    var json: String?

    /// The figures of one run.
    struct Result: Codable {
        var nodes: Int
        var rounds: Int
        var attestations: Int
        var evidenceKinds: [String]
        var attestationP50Milliseconds: Double
        var attestationP99Milliseconds: Double
        var keyReleaseP50Milliseconds: Double
        var keyReleaseP99Milliseconds: Double
    }

    func validate() throws {
        guard (1...1024).contains(nodes) else { throw ValidationError("--nodes \(nodes): expected 1…1024") }
        guard (1...10_000).contains(rounds) else { throw ValidationError("--rounds \(rounds): expected 1…10000") }
    }

    func run() async throws {
        let topology = try options.load()
        let pinned = try PinnedBrokerKey.load(option: brokerKey, topology: topology)
        let roles = topology.stageRoles
        guard !roles.isEmpty else { throw ValidationError("\(topology.name) has no stages to attest as") }
        // One evidence provider per role, made before the clock starts, as each node makes its own.
        var providers: [String: any EvidenceProvider] = [:]
        var warnings = Set<String>()
        for role in roles {
            let digests = try ModelFileDigests.compute(topology: topology, role: role)
            guard let policy = topology.releasePolicy.roles[role],
                let configuration = topology.stageConfigurationBytes(role: role, modelFileDigests: digests)
            else { throw ValidationError("\(role): no release policy in \(topology.name)") }
            providers[role] = try NodeEvidence.provider(
                role: role, policy: policy, measuredConfiguration: configuration,
                platformKeyFile: URL(fileURLWithPath: platformKey), warn: { warnings.insert($0) })
        }
        for warning in warnings.sorted() { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        let context = try ZMQContext()
        let endpoint = topology.keyBrokerEndpoint.description
        let digest = Hex.encode(topology.digest)
        let measured = try await withThrowingTaskGroup(of: ([Duration], [Duration]).self) { group in
            for node in 0..<nodes {
                let role = roles[node % roles.count]
                let provider = providers[role]!
                group.addTask {
                    let client = KeyBrokerClient(endpoint: endpoint, context: context, timeout: .seconds(30))
                    let releases = ReleaseTimes()
                    var times: [Duration] = []
                    for _ in 0..<rounds {
                        let start = ContinuousClock.now
                        _ = try await client.attest(
                            role: role, provider: provider, pinnedBrokerKey: pinned, topologyDigest: digest,
                            keyRelease: { releases.append($0) })
                        times.append(ContinuousClock.now - start)
                    }
                    return (times, releases.all)
                }
            }
            var all: ([Duration], [Duration]) = ([], [])
            for try await (times, released) in group {
                all.0 += times
                all.1 += released
            }
            return all
        }
        let (attestations, released) = measured
        let result = Result(
            nodes: nodes, rounds: rounds, attestations: attestations.count,
            evidenceKinds: Set(providers.values.map { "\($0.kind)" }).sorted(),
            attestationP50Milliseconds: Self.percentile(attestations, 0.50),
            attestationP99Milliseconds: Self.percentile(attestations, 0.99),
            keyReleaseP50Milliseconds: Self.percentile(released, 0.50),
            keyReleaseP99Milliseconds: Self.percentile(released, 0.99))
        Output.line(
            String(
                format: "%d nodes × %d rounds (%@ evidence) against %@: attestation p50 %.1f ms, p99 %.1f ms; "
                    + "key release p50 %.1f ms, p99 %.1f ms",
                nodes, rounds, result.evidenceKinds.joined(separator: ", "), endpoint,
                result.attestationP50Milliseconds, result.attestationP99Milliseconds,
                result.keyReleaseP50Milliseconds, result.keyReleaseP99Milliseconds))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: json))
        }
    }

    /// One node's key-release times, appended from the client's callback.
    final class ReleaseTimes: Sendable {
        private let times = Mutex<[Duration]>([])
        func append(_ time: Duration) { times.withLock { $0.append(time) } }
        var all: [Duration] { times.withLock { $0 } }
    }

    /// The nearest-rank percentile, in milliseconds.
    static func percentile(_ durations: [Duration], _ fraction: Double) -> Double {
        guard !durations.isEmpty else { return 0 }
        let sorted = durations.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        let value = sorted[min(max(rank, 1), sorted.count) - 1]
        return value.secondsValue * 1e3
    }
}
