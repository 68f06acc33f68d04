import Attestation
import Foundation
import Sodium
import Testing

@testable import Topology

/// What services derive from a topology: roles and routing, defaults, policy, services and the
/// canonical configuration bytes.
@Suite("Topology derived values")
struct TopologyDerivedTests {
    static func topology(_ yaml: String = TopologyValidationTests.valid) throws -> Topology {
        try Topology(yaml: yaml)
    }

    @Test("roles run in pipeline order and around the ring")
    func routing() throws {
        let topology = try Self.topology()
        #expect(topology.roles == ["gateway", "preprocessor", "shard-0", "shard-1", "postprocessor"])
        #expect(topology.stageRoles == ["preprocessor", "shard-0", "shard-1", "postprocessor"])
        #expect(topology.nextRole(of: "gateway") == "preprocessor")
        #expect(topology.nextRole(of: "shard-0") == "shard-1")
        #expect(topology.nextRole(of: "postprocessor") == "gateway")
        #expect(topology.previousRole(of: "preprocessor") == "gateway")
        #expect(topology.previousRole(of: "gateway") == "postprocessor")
        #expect(topology.previousRole(of: "shard-1") == "shard-0")
        #expect(topology.nextRole(of: "kms") == nil)
        #expect(topology.previousRole(of: "shard-9") == nil)
    }

    @Test("left-out settings take their documented defaults")
    func defaults() throws {
        let topology = try Self.topology()
        #expect(topology.hosts == [HostSpec(name: "local", address: "127.0.0.1")])
        #expect(topology.model.directory == "models/all-MiniLM-L6-v2")
        let broker = topology.keyBroker
        #expect(broker.statePath == ".sealpipe/t/kms.sqlite")
        #expect(broker.rootKeyPath == ".sealpipe/t/root.key")
        #expect(broker.platformKeyPaths == [".sealpipe/platform.pub"])
        #expect(broker.epoch == .seconds(3600) && broker.grace == .seconds(600) && broker.manifestTTL == .seconds(3600))
        let gateway = topology.gateway
        #expect(gateway.maxInFlight == 1024 && gateway.maxPayload == 1_048_576 && gateway.maxAttempts == 3)
        #expect(gateway.deadline == .seconds(30) && gateway.maxDeadline == .seconds(300))
        #expect(gateway.heartbeatInterval == .milliseconds(500) && gateway.heartbeatTimeout == .seconds(2))
        #expect(gateway.maxInFlightPerClient == nil && gateway.maxInFlightPerAddress == nil)
        #expect(gateway.clientShare == 256 && gateway.addressShare == 512)
        let stage = try #require(topology.stage(named: "shard-0"))
        #expect(stage.host == "local" && stage.replicas == 1 && stage.threads == 1)
        #expect(stage.maxBatch == 32 && stage.maxDelay == .milliseconds(2) && stage.queue == 128)
        #expect(topology.stage(named: "gateway") == nil)
    }

    @Test("a long default deadline raises the default maximum with it")
    func longDeadline() throws {
        let yaml = TopologyValidationTests.valid.replacingOccurrences(
            of: "backend: tcp://127.0.0.1:6556", with: "backend: tcp://127.0.0.1:6556\n  deadline: 10m")
        let gateway = try Self.topology(yaml).gateway
        #expect(gateway.deadline == .seconds(600) && gateway.maxDeadline == .seconds(600))
    }

    @Test("the shares of maxInFlight are read as given, or follow maxInFlight")
    func shares() throws {
        let given = try Self.topology(
            TopologyValidationTests.valid(
                replacing: "backend: tcp://127.0.0.1:6556",
                with: "backend: tcp://127.0.0.1:6556\n  maxInFlight: 64\n  maxInFlightPerClient: 8\n"
                    + "  maxInFlightPerAddress: 64"
            )
        ).gateway
        #expect(given.maxInFlightPerClient == 8 && given.maxInFlightPerAddress == 64)
        #expect(given.clientShare == 8 && given.addressShare == 64)
        let derived = try Self.topology(
            TopologyValidationTests.valid(
                replacing: "backend: tcp://127.0.0.1:6556", with: "backend: tcp://127.0.0.1:6556\n  maxInFlight: 3")
        ).gateway
        #expect(derived.maxInFlightPerClient == nil && derived.clientShare == 1 && derived.addressShare == 1)
        #expect(try Self.topology().summary.contains("maxInFlight 1024 (256 per client, 512 per address)"))
    }

    @Test("metrics ports count up from the base port in service order")
    func metricsPorts() throws {
        let yaml = TopologyValidationTests.valid.replacingOccurrences(
            of: "layers: [0, 3]}", with: "layers: [0, 3], replicas: 3}")
        let topology = try Self.topology(yaml)
        #expect(
            topology.services.map { "\($0.name)@\($0.metrics)" } == [
                "kms@127.0.0.1:9500", "gateway@127.0.0.1:9501", "preprocessor.0@127.0.0.1:9502",
                "shard-0.0@127.0.0.1:9503", "shard-0.1@127.0.0.1:9504", "shard-0.2@127.0.0.1:9505",
                "shard-1.0@127.0.0.1:9506", "postprocessor.0@127.0.0.1:9507",
            ])
        #expect(topology.services.map(\.dependencies) == [[]] + Array(repeating: ["kms"], count: 7))
        #expect(
            topology.services.map(\.role) == [
                nil, "gateway", "preprocessor", "shard-0", "shard-0", "shard-0", "shard-1", "postprocessor",
            ])
    }

    @Test("an explicit metrics address keeps every other service's derived port")
    func explicitMetrics() throws {
        let yaml = TopologyValidationTests.valid.replacingOccurrences(
            of: "layers: [0, 3]}", with: "layers: [0, 3], metrics: 127.0.0.1:9600, replicas: 2}")
        let topology = try Self.topology(yaml)
        #expect(topology.service(named: "shard-0.0")?.metrics.description == "127.0.0.1:9600")
        #expect(topology.service(named: "shard-0.1")?.metrics.description == "127.0.0.1:9601")
        #expect(topology.service(named: "shard-1.0")?.metrics.description == "127.0.0.1:9505")
    }

    @Test("the release policy covers every role, with overrides merged over the default")
    func policy() throws {
        let yaml = TopologyValidationTests.valid.replacingOccurrences(
            of: "  endpoint: tcp://127.0.0.1:6550",
            with: """
                  endpoint: tcp://127.0.0.1:6550
                  policy:
                    default: {evidence: {simulated: {}, sev-snp: {measurements: [AA]}}}
                    roles:
                      shard-0: {evidence: {sev-snp: {measurements: [ABCDEF01], minimumTCB: 42}}}
                      gateway: {evidence: {simulated: {allowDebug: true}}}
                """)
        let topology = try Self.topology(yaml)
        // Projected to text so this test needs only Pipeline (the policy types live in Attestation).
        let projected = topology.releasePolicy.roles.mapValues { policy in
            policy.evidence.sorted(by: { $0.key < $1.key }).map { kind, c in
                "\(kind) \(c.measurements) debug=\(c.allowDebug) tcb=\(c.minimumTCB.map(String.init) ?? "-")"
            }.joined(separator: "; ")
        }
        let base = #"sev-snp ["aa"] debug=false tcb=-; simulated ["reference-build"] debug=false tcb=-"#
        #expect(
            projected == [
                "gateway": #"simulated ["reference-build"] debug=true tcb=-"#,
                "preprocessor": base,
                "shard-0": #"sev-snp ["abcdef01"] debug=false tcb=42"#,
                "shard-1": base,
                "postprocessor": base,
            ])
        #expect(topology.policySummary.split(separator: "\n").count == 5)
        #expect(
            topology.policySummary.contains(
                "shard-0: evidence sev-snp (measurements abcdef01, debug refused, minimum TCB 42)"
            ))
    }

    @Test("configuration bytes are canonical, stable and differ between roles")
    func configurationBytes() throws {
        let first = try Self.topology()
        let again = try Self.topology()
        let digests = ["config.json": "ab", "vocab.txt": "cd"]
        let shard0 = try #require(first.stageConfigurationBytes(role: "shard-0", modelFileDigests: digests))
        #expect(again.stageConfigurationBytes(role: "shard-0", modelFileDigests: digests) == shard0)
        #expect(
            String(decoding: shard0, as: UTF8.self)
                == #"{"format":1,"kind":"encoder","layers":[0,3],"maxBatch":32,"maxDelayNanoseconds":2000000,"#
                + #""model":{"directory":"models/all-MiniLM-L6-v2","kind":"minilm","layers":6},"#
                + #""modelFiles":{"config.json":"ab","vocab.txt":"cd"},"next":"shard-1","#
                + #""previous":"preprocessor","queue":128,"role":"shard-0","threads":1,"topology":"t","#
                + #""topologyDigest":"\#(Hex.encode(SHA256.hash(Array(TopologyValidationTests.valid.utf8))))"}"#)
        // The model files' contents are measured: one changed digest is another configuration.
        #expect(
            first.stageConfigurationBytes(role: "shard-0", modelFileDigests: ["config.json": "ab", "vocab.txt": "ce"])
                != shard0)
        let all = first.roles.map { first.stageConfigurationBytes(role: $0, modelFileDigests: [:]) }
        #expect(Set(all).count == first.roles.count)
        #expect(all.allSatisfy { $0 != nil })
        #expect(first.stageConfigurationBytes(role: "kms", modelFileDigests: [:]) == nil)
        #expect(first.stageConfigurationBytes(role: "shard-7", modelFileDigests: [:]) == nil)
        let gateway = try #require(first.stageConfigurationBytes(role: "gateway", modelFileDigests: [:]))
        #expect(String(decoding: gateway, as: UTF8.self).contains(#""maxPayload":1048576"#))
    }

    @Test("the gateway's shares of maxInFlight are measured only when the file sets them")
    func shareMeasurement() throws {
        // The gateway's configuration bytes as they were before the shares existed: a topology
        // that leaves them out keeps its measurement.
        let base = Self.withoutDigest(
            try Self.topology().stageConfigurationBytes(role: "gateway", modelFileDigests: [:]))
        #expect(
            base
                == #"{"deadlineNanoseconds":30000000000,"format":1,"heartbeatIntervalNanoseconds":500000000,"#
                + #""heartbeatTimeoutNanoseconds":2000000000,"kind":"gateway","maxAttempts":3,"#
                + #""maxDeadlineNanoseconds":300000000000,"maxInFlight":1024,"maxPayload":1048576,"#
                + #""model":{"directory":"models/all-MiniLM-L6-v2","kind":"minilm","layers":6},"#
                + #""modelFiles":{},"next":"preprocessor","previous":"postprocessor","role":"gateway","topology":"t"}"#)
        let given = try Self.topology(
            TopologyValidationTests.valid(
                replacing: "backend: tcp://127.0.0.1:6556",
                with: "backend: tcp://127.0.0.1:6556\n  maxInFlightPerClient: 256\n  maxInFlightPerAddress: 100"))
        let measured = Self.withoutDigest(given.stageConfigurationBytes(role: "gateway", modelFileDigests: [:]))
        // Set, even to the default, they are part of what the gateway is measured with.
        #expect(
            measured
                == base.replacingOccurrences(
                    of: #""maxInFlight":1024,"#,
                    with: #""maxInFlight":1024,"maxInFlightPerAddress":100,"maxInFlightPerClient":256,"#))
    }

    /// A role's configuration bytes without the topology digest: what placement leaves alone.
    static func withoutDigest(_ bytes: [UInt8]?) -> String {
        let text = String(decoding: bytes ?? [], as: UTF8.self)
        let digest = #","topologyDigest":"[0-9a-f]{64}""#
        return text.replacingOccurrences(of: digest, with: "", options: .regularExpression)
    }

    @Test("placement changes a role's configuration bytes only through the topology digest; behaviour does more")
    func configurationScope() throws {
        let base = try Self.topology()
        let moved = try Self.topology(
            TopologyValidationTests.valid.replacingOccurrences(
                of: "layers: [0, 3]}", with: "layers: [0, 3], replicas: 4}"
            )
            .replacingOccurrences(of: "basePort: 9500", with: "basePort: 9700"))
        let rebatched = try Self.topology(
            TopologyValidationTests.valid.replacingOccurrences(
                of: "layers: [0, 3]}", with: "layers: [0, 3], batching: {maxBatch: 8}}"))
        let resharded = try Self.topology(
            TopologyValidationTests.valid.replacingOccurrences(of: "[0, 3]", with: "[0, 2]")
                .replacingOccurrences(of: "[3, 6]", with: "[2, 6]"))
        // Any edit of the file changes the digest every node's evidence binds.
        #expect(moved.digest != base.digest)
        #expect(
            moved.stageConfigurationBytes(role: "shard-0", modelFileDigests: [:])
                != base.stageConfigurationBytes(role: "shard-0", modelFileDigests: [:]))
        let shard0 = Self.withoutDigest(base.stageConfigurationBytes(role: "shard-0", modelFileDigests: [:]))
        let shard1 = Self.withoutDigest(base.stageConfigurationBytes(role: "shard-1", modelFileDigests: [:]))
        #expect(shard0.hasSuffix(#""topology":"t"}"#))
        #expect(Self.withoutDigest(moved.stageConfigurationBytes(role: "shard-0", modelFileDigests: [:])) == shard0)
        #expect(Self.withoutDigest(rebatched.stageConfigurationBytes(role: "shard-0", modelFileDigests: [:])) != shard0)
        #expect(Self.withoutDigest(rebatched.stageConfigurationBytes(role: "shard-1", modelFileDigests: [:])) == shard1)
        #expect(Self.withoutDigest(resharded.stageConfigurationBytes(role: "shard-1", modelFileDigests: [:])) != shard1)
    }

    @Test("the summary names every service, endpoint and role")
    func summary() throws {
        let topology = try Self.topology()
        let summary = topology.summary
        for needle in [
            "topology t: minilm, 6 layers", "gateway -> preprocessor -> shard-0 -> shard-1 -> postprocessor -> gateway",
            "clients connect to   tcp://127.0.0.1:6555", "shard-0: encoder layers 0..<3, 1 replica on local",
            "shard-1.0          metrics http://127.0.0.1:9504/metrics", "release policy:",
        ] {
            #expect(summary.contains(needle), "summary lacks \(needle)")
        }
    }
}
