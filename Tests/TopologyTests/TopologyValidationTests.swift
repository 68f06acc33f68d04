import Foundation
import Testing

@testable import Topology

/// Each broken file gives exactly the listed problems, each at its place.
@Suite("Topology validation")
struct TopologyValidationTests {
    static let valid = """
        name: t
        model: {kind: minilm, layers: 6}
        kms:
          endpoint: tcp://127.0.0.1:6550
        gateway:
          front: tcp://127.0.0.1:6555
          backend: tcp://127.0.0.1:6556
        metrics: {basePort: 9500}
        stages:
          - {name: preprocessor, kind: tokenizer}
          - {name: shard-0, kind: encoder, layers: [0, 3]}
          - {name: shard-1, kind: encoder, layers: [3, 6]}
          - {name: postprocessor, kind: pooling}
        """

    static let echo = """
        name: e
        model: {kind: echo}
        kms: {endpoint: tcp://127.0.0.1:6550}
        gateway: {front: tcp://127.0.0.1:6555, backend: tcp://127.0.0.1:6556}
        stages:
          - {name: preprocessor, kind: echo}
          - {name: shard-0, kind: echo}
        """

    /// The base file with one text replaced; the replacement must apply, or the case tests nothing.
    static func valid(replacing old: String, with new: String) -> String {
        precondition(valid.contains(old), "test case does not apply: \(old)")
        return valid.replacingOccurrences(of: old, with: new)
    }

    static func problems(_ yaml: String) -> [String] {
        do {
            _ = try Topology(yaml: yaml)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let yaml: String
        let expected: [String]
        var testDescription: String { label }
    }

    static let cases: [Case] = [
        Case(
            label: "layers past the model",
            yaml: valid(replacing: "layers: [3, 6]", with: "layers: [3, 9]"),
            expected: ["stages[2].layers: range 3..<9 exceeds the model's 6 layers"]),
        Case(
            label: "unknown host",
            yaml: valid(
                replacing: "{name: shard-0, kind: encoder,", with: "{name: shard-0, host: gpu-2, kind: encoder,"),
            expected: ["stages[1].host: unknown host \"gpu-2\""]),
        Case(
            label: "gap between shards",
            yaml: valid(replacing: "layers: [3, 6]", with: "layers: [4, 6]"),
            expected: ["stages[2].layers: range starts at 4 but the previous encoder ends at 3"]),
        Case(
            label: "first shard not at 0",
            yaml: valid(replacing: "layers: [0, 3]", with: "layers: [1, 3]"),
            expected: ["stages[1].layers: range starts at 1 but the first encoder must start at 0"]),
        Case(
            label: "layers not covered",
            yaml: valid(replacing: "layers: [3, 6]", with: "layers: [3, 5]"),
            expected: ["stages: the encoders cover layers 0..<5 but the model has 6"]),
        Case(
            label: "overlapping shards",
            yaml: valid(replacing: "layers: [3, 6]", with: "layers: [2, 6]"),
            expected: ["stages[2].layers: range starts at 2 but the previous encoder ends at 3"]),
        Case(
            label: "empty range",
            yaml: valid(replacing: "layers: [3, 6]", with: "layers: [3, 3]"),
            expected: ["stages[2].layers: range 3..<3 is empty or negative"]),
        Case(
            label: "first stage not a tokenizer",
            yaml: valid(replacing: "  - {name: preprocessor, kind: tokenizer}\n", with: ""),
            expected: ["stages[0].kind: the first stage of a minilm pipeline must be a tokenizer, not encoder"]),
        Case(
            label: "last stage not pooling",
            yaml: valid(replacing: "\n  - {name: postprocessor, kind: pooling}", with: ""),
            expected: ["stages[2].kind: the last stage of a minilm pipeline must be pooling, not encoder"]),
        Case(
            label: "pooling in the middle",
            yaml: valid(
                replacing: "{name: shard-1, kind: encoder, layers: [3, 6]}", with: "{name: pool, kind: pooling}"),
            expected: [
                "stages[2].kind: pooling can only be the last stage",
                "stages: the encoders cover layers 0..<3 but the model has 6",
            ]),
        Case(
            label: "echo model with a tokenizer",
            yaml: echo.replacingOccurrences(
                of: "{name: preprocessor, kind: echo}", with: "{name: preprocessor, kind: tokenizer}"),
            expected: ["stages[0].kind: an echo model runs only echo stages, not tokenizer"]),
        Case(
            label: "echo stage in a minilm model",
            yaml: valid(replacing: "{name: postprocessor, kind: pooling}", with: "{name: postprocessor, kind: echo}"),
            expected: ["stages[3].kind: echo stages run only with an echo model"]),
        Case(
            label: "echo model with layers",
            yaml: echo.replacingOccurrences(of: "{kind: echo}", with: "{kind: echo, layers: 6}"),
            expected: ["model.layers: an echo model has no layers"]),
        Case(
            label: "duplicate stage name",
            yaml: valid(replacing: "name: shard-1", with: "name: shard-0"),
            expected: ["stages[2].name: \"shard-0\" is already used by stages[1]"]),
        Case(
            label: "reserved stage name",
            yaml: valid(replacing: "name: postprocessor", with: "name: gateway"),
            expected: ["stages[3].name: \"gateway\" is reserved"]),
        Case(
            label: "invalid stage name",
            yaml: valid(replacing: "name: shard-1", with: "name: Shard_1"),
            expected: [
                "stages[2].name: \"Shard_1\" is not a valid role name (lower-case letters, digits and '-', "
                    + "starting with a letter or digit, at most 63)"
            ]),
        Case(
            label: "zero replicas",
            yaml: valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], replicas: 0}"),
            expected: ["stages[1].replicas: must be at least 1, not 0"]),
        Case(
            label: "absurd replicas",
            yaml: valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], replicas: 9223372036854775807}"),
            expected: ["stages[1].replicas: must be at most 256, not 9223372036854775807"]),
        Case(
            label: "absurd maxBatch",
            yaml: valid(
                replacing: "layers: [0, 3]}", with: "layers: [0, 3], batching: {maxBatch: 9223372036854775807}}"),
            expected: ["stages[1].batching.maxBatch: must be at most 4096, not 9223372036854775807"]),
        Case(
            label: "zero maxBatch",
            yaml: valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], batching: {maxBatch: 0}}"),
            expected: ["stages[1].batching.maxBatch: must be at least 1, not 0"]),
        Case(
            label: "queue smaller than a batch",
            yaml: valid(replacing: "kind: tokenizer}", with: "kind: tokenizer, queue: 8, batching: {maxBatch: 16}}"),
            expected: ["stages[0].queue: 8 is smaller than batching.maxBatch 16"]),
        Case(
            label: "layers on a tokenizer",
            yaml: valid(replacing: "kind: tokenizer}", with: "kind: tokenizer, layers: [0, 1]}"),
            expected: ["stages[0].layers: only encoder stages have layers"]),
        Case(
            label: "encoder without layers",
            yaml: valid(
                replacing: "{name: shard-1, kind: encoder, layers: [3, 6]}", with: "{name: shard-1, kind: encoder}"),
            expected: ["stages[2].layers: required for an encoder stage"]),
        Case(
            label: "unknown stage kind",
            yaml: valid(replacing: "kind: pooling", with: "kind: pool"),
            expected: ["stages[3].kind: unknown stage kind \"pool\" (known: tokenizer, encoder, pooling, echo)"]),
        Case(
            label: "endpoint syntax",
            yaml: valid(replacing: "front: tcp://127.0.0.1:6555", with: "front: tcp//127.0.0.1:6555"),
            expected: [
                "gateway.front: \"tcp//127.0.0.1:6555\" is not an endpoint (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)"
            ]),
        Case(
            label: "ephemeral port",
            yaml: valid(replacing: "endpoint: tcp://127.0.0.1:6550", with: "endpoint: tcp://127.0.0.1:*"),
            expected: [
                "kms.endpoint: \"tcp://127.0.0.1:*\" is not an endpoint (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)"
            ]),
        Case(
            label: "endpoint on another host's address",
            yaml: valid(replacing: "endpoint: tcp://127.0.0.1:6550", with: "endpoint: tcp://10.0.0.9:6550"),
            expected: ["kms.endpoint: binds 10.0.0.9 but host \"local\" is at 127.0.0.1 (bind its address or *)"]),
        Case(
            label: "port used twice",
            yaml: valid(replacing: "backend: tcp://127.0.0.1:6556", with: "backend: tcp://127.0.0.1:6550"),
            expected: ["gateway.backend: port 6550 on 127.0.0.1 is already used by kms.endpoint"]),
        Case(
            label: "derived metrics ports collide with endpoints",
            yaml: valid(replacing: "basePort: 9500", with: "basePort: 6553"),
            expected: [
                "stages[0].metrics: port 6555 on 127.0.0.1 (the metrics of preprocessor.0) is already used by gateway.front",
                "stages[1].metrics: port 6556 on 127.0.0.1 (the metrics of shard-0.0) is already used by gateway.backend",
            ]),
        Case(
            label: "explicit metrics address collides with a replica's",
            yaml: valid(replacing: "kind: pooling}", with: "kind: pooling, metrics: 127.0.0.1:9503}"),
            expected: [
                "stages[3].metrics: port 9503 on 127.0.0.1 (the metrics of postprocessor.0) is already used by the metrics of shard-0.0"
            ]),
        Case(
            label: "policy for an unknown role",
            yaml: valid(
                replacing: "  endpoint: tcp://127.0.0.1:6550",
                with:
                    "  endpoint: tcp://127.0.0.1:6550\n  policy: {roles: {shard-9: {evidence: {simulated: {allowDebug: true}}}}}"
            ),
            expected: [
                "kms.policy.roles.shard-9: unknown role (roles are gateway, preprocessor, shard-0, shard-1, postprocessor)"
            ]),
        Case(
            label: "unknown evidence kind",
            yaml: valid(
                replacing: "  endpoint: tcp://127.0.0.1:6550",
                with: "  endpoint: tcp://127.0.0.1:6550\n  policy: {default: {evidence: {simulated: {}, sgx: {}}}}"),
            expected: [
                "kms.policy.default.evidence.sgx: unknown evidence kind \"sgx\" "
                    + "(known: simulated, sev-snp, tdx, sev-snp+nvidia-gpu, tdx+nvidia-gpu)"
            ]),
        Case(
            label: "minimum TCB on simulated evidence",
            yaml: valid(
                replacing: "  endpoint: tcp://127.0.0.1:6550",
                with:
                    "  endpoint: tcp://127.0.0.1:6550\n  policy: {roles: {shard-0: {evidence: {simulated: {minimumTCB: 7}}}}}"
            ),
            expected: [
                "kms.policy.roles.shard-0.evidence.simulated.minimumTCB: cannot be checked on simulated evidence"
            ]),
        Case(
            label: "mixed sev-snp and simulated with a TCB floor (no downgrade)",
            yaml: valid(
                replacing: "  endpoint: tcp://127.0.0.1:6550",
                with: """
                      endpoint: tcp://127.0.0.1:6550
                      policy:
                        default:
                          evidence:
                            sev-snp: {measurements: [aa], minimumTCB: 18446744073709551615}
                            simulated: {measurements: [reference-build], minimumTCB: 18446744073709551615}
                    """),
            expected: ["kms.policy.default.evidence.simulated.minimumTCB: cannot be checked on simulated evidence"]),
        Case(
            label: "TDX constraints on SEV-SNP, and reference-build for hardware",
            yaml: valid(
                replacing: "  endpoint: tcp://127.0.0.1:6550",
                with: """
                      endpoint: tcp://127.0.0.1:6550
                      policy:
                        default:
                          evidence:
                            sev-snp: {measurements: [reference-build], tdx: {mrConfigID: "00"}}
                    """),
            expected: [
                "kms.policy.default.evidence.sev-snp.measurements[0]: \"reference-build\" is the simulated TEE's "
                    + "measurement of this build; sev-snp needs its own",
                "kms.policy.default.evidence.sev-snp.tdx: cannot be checked on sev-snp evidence",
            ]),
        Case(
            label: "measurement neither hex nor reference-build",
            yaml: valid(
                replacing: "  endpoint: tcp://127.0.0.1:6550",
                with:
                    "  endpoint: tcp://127.0.0.1:6550\n  policy: {default: {evidence: {simulated: {measurements: [abc]}}}}"
            ),
            expected: [
                "kms.policy.default.evidence.simulated.measurements[0]: \"abc\" is neither hex nor \"reference-build\""
            ]),
        Case(
            label: "misspelt key",
            yaml: valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], replica: 2}"),
            expected: ["stages[1].replica: unknown key (did you mean \"replicas\"?)"]),
        Case(
            label: "misspelt section",
            yaml: valid(replacing: "gateway:", with: "gatway:"),
            expected: ["gatway: unknown key (did you mean \"gateway\"?)", "gateway: required"]),
        Case(
            label: "unknown nested key",
            yaml: valid(replacing: "kms:\n", with: "kms:\n  colour: blue\n"),
            expected: [
                "kms.colour: unknown key (known keys: host, endpoint, state, rootKey, platformKeys, rotation, manifestTTL, policy, metrics, collateral)"
            ]),
        Case(
            label: "wrong type",
            yaml: valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], replicas: two}"),
            expected: ["stages[1].replicas: expected an integer"]),
        Case(
            label: "stage not a mapping",
            yaml: valid(replacing: "{name: shard-1, kind: encoder, layers: [3, 6]}", with: "shard-1"),
            expected: ["stages[2]: expected a mapping"]),
        Case(
            label: "duration without unit",
            yaml: valid(
                replacing: "backend: tcp://127.0.0.1:6556", with: "backend: tcp://127.0.0.1:6556\n  deadline: 30"),
            expected: [
                "gateway.deadline: \"30\" is not a duration (a whole number and a unit: 250us, 500ms, 2s, 10m, 1h)"
            ]),
        Case(
            label: "bad size",
            yaml: valid(
                replacing: "backend: tcp://127.0.0.1:6556", with: "backend: tcp://127.0.0.1:6556\n  maxPayload: 1.5MiB"),
            expected: [
                "gateway.maxPayload: \"1.5MiB\" is not a size (bytes, or a whole number with KiB, MiB, GiB, KB, MB, GB)"
            ]),
        Case(
            label: "shares of maxInFlight of none or more than the whole",
            yaml: valid(
                replacing: "backend: tcp://127.0.0.1:6556",
                with: "backend: tcp://127.0.0.1:6556\n  maxInFlightPerClient: 0\n  maxInFlightPerAddress: 1025"),
            expected: [
                "gateway.maxInFlightPerClient: must be at least 1, not 0",
                "gateway.maxInFlightPerAddress: 1025 is more than gateway.maxInFlight (1024); a share is at most the whole",
            ]),
        Case(
            label: "a share over a smaller maxInFlight",
            yaml: valid(
                replacing: "backend: tcp://127.0.0.1:6556",
                with: "backend: tcp://127.0.0.1:6556\n  maxInFlight: 8\n  maxInFlightPerClient: 9"),
            expected: [
                "gateway.maxInFlightPerClient: 9 is more than gateway.maxInFlight (8); a share is at most the whole"
            ]),
        Case(
            label: "heartbeat timeout not above interval",
            yaml: valid(
                replacing: "backend: tcp://127.0.0.1:6556",
                with: "backend: tcp://127.0.0.1:6556\n  heartbeat: {interval: 2s, timeout: 2000ms}"),
            expected: ["gateway.heartbeat.timeout: 2s must be longer than the interval 2s"]),
        Case(
            label: "maximum deadline shorter than the default",
            yaml: valid(
                replacing: "backend: tcp://127.0.0.1:6556",
                with: "backend: tcp://127.0.0.1:6556\n  deadline: 1m\n  maxDeadline: 30s"),
            expected: ["gateway.maxDeadline: 30s is shorter than the default deadline 1m"]),
        Case(
            label: "grace not shorter than the epoch",
            yaml: valid(
                replacing: "  endpoint: tcp://127.0.0.1:6550",
                with: "  endpoint: tcp://127.0.0.1:6550\n  rotation: {epoch: 1h, grace: 90m}"),
            expected: ["kms.rotation.grace: 90m must be shorter than the epoch 1h"]),
        Case(
            label: "host needed with several hosts",
            yaml: valid(
                replacing: "model:",
                with:
                    "hosts: {a: {address: 127.0.0.1, platformKey: a.pub}, b: {address: 127.0.0.2, platformKey: b.pub}}\nmodel:"
            )
            .replacingOccurrences(of: "kind: tokenizer}", with: "kind: tokenizer, host: a}"),
            expected: [
                "kms.host: required when the topology has more than one host",
                "gateway.host: required when the topology has more than one host",
                "stages[1].host: required when the topology has more than one host",
                "stages[2].host: required when the topology has more than one host",
                "stages[3].host: required when the topology has more than one host",
            ]),
        Case(
            label: "several hosts: each host that runs a simulated role has its own platform key, and no shared one",
            yaml: valid(
                replacing: "model:",
                with: "hosts: {a: {address: 127.0.0.1, platformKey: a.pub}, b: {address: 127.0.0.2}}\nmodel:"
            )
            .replacingOccurrences(
                of: "  endpoint: tcp://127.0.0.1:6550",
                with: "  host: a\n  endpoint: tcp://127.0.0.1:6550\n  platformKeys: [k.pub]"
            )
            .replacingOccurrences(of: "gateway:\n", with: "gateway:\n  host: a\n")
            .replacingOccurrences(of: "kind: tokenizer}", with: "kind: tokenizer, host: a}")
            .replacingOccurrences(of: "layers: [0, 3]}", with: "layers: [0, 3], host: b}")
            .replacingOccurrences(of: "layers: [3, 6]}", with: "layers: [3, 6], host: a}")
            .replacingOccurrences(of: "kind: pooling}", with: "kind: pooling, host: a}"),
            expected: [
                "kms.platformKeys: with several hosts, give each host its own key (hosts.NAME.platformKey), trusted for its roles only",
                "hosts.b.platformKey: required: shard-0 runs here and accepts simulated evidence; make the key on that host "
                    + "(`sealpipe platform init --out DIR`) and copy only DIR/platform.pub to the broker's host",
            ]),
        Case(
            label: "ipc broker unreachable from another host",
            yaml: """
                name: t
                model: {kind: echo}
                hosts: {a: {address: 10.0.0.1, platformKey: a.pub}, b: {address: 10.0.0.2, platformKey: b.pub}}
                kms: {host: a, endpoint: ipc:///tmp/t-kms}
                gateway: {host: a, front: tcp://*:6555, backend: tcp://10.0.0.1:6556}
                stages:
                  - {name: one, kind: echo, host: b}
                """,
            expected: ["kms.endpoint: an ipc:// endpoint cannot be reached from host \"b\""]),
        Case(
            label: "missing sections",
            yaml: "name: t\nmodel: {kind: minilm}\n",
            expected: ["kms: required", "gateway: required", "stages: required"]),
        Case(
            label: "no stages",
            yaml: valid(replacing: "stages:", with: "stages: []\nunused:").components(separatedBy: "unused:")[0],
            expected: ["stages: at least one stage is required"]),
        Case(
            label: "unknown model kind",
            yaml: valid(replacing: "{kind: minilm, layers: 6}", with: "{kind: bert}"),
            expected: ["model.kind: unknown model kind \"bert\" (known: minilm, echo)"]),
        Case(
            label: "empty file",
            yaml: "",
            expected: ["the file is empty"]),
        Case(
            label: "top level not a mapping",
            yaml: "- just\n- a list\n",
            expected: ["expected a mapping"]),
    ]

    @Test("a valid file has no problems")
    func validFile() {
        #expect(Self.problems(Self.valid) == [])
        #expect(Self.problems(Self.echo) == [])
    }

    @Test("each broken file gives exactly its problems", arguments: cases)
    func brokenFile(_ broken: Case) {
        #expect(Self.problems(broken.yaml) == broken.expected)
    }

    @Test("every problem in one file is reported together, in file order")
    func collectsAll() {
        let yaml = Self.valid
            .replacingOccurrences(of: "name: t", with: "name: T")
            .replacingOccurrences(of: "backend: tcp://127.0.0.1:6556", with: "backend: tcp://127.0.0.1:6555")
            .replacingOccurrences(of: "layers: [3, 6]", with: "layers: [3, 9]")
            .replacingOccurrences(of: "kind: pooling}", with: "kind: pooling, replicas: -1, threads: 0}")
        #expect(
            Self.problems(yaml) == [
                "name: \"T\" is not a valid name (lower-case letters, digits and '-', starting with a letter or digit, at most 63)",
                "gateway.backend: is the same endpoint as gateway.front",
                "stages[2].layers: range 3..<9 exceeds the model's 6 layers",
                "stages[3].replicas: must be at least 1, not -1",
                "stages[3].threads: must be at least 1, not 0",
            ])
    }

    @Test("invalid YAML is reported as such")
    func invalidYAML() {
        let problems = Self.problems("name: [unclosed\nstages: x\n")
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("not valid YAML: line ") == true)
        #expect(problems.first?.contains("stages: x") == false, "the file is not echoed back")
    }

    @Test("a key given twice is refused")
    func duplicateKey() {
        #expect(
            Self.problems(Self.valid + "\nname: again\n") == [
                "not valid YAML: \"name\" given twice in the mapping at line 1, column 1"
            ])
    }

    @Test("a missing file names the path")
    func missingFile() {
        #expect(throws: TopologyError.self) { try Topology.load(path: "/nonexistent/sealpipe/topology.yaml") }
        do {
            _ = try Topology.load(path: "/nonexistent/sealpipe/topology.yaml")
        } catch {
            #expect(error.issues.first?.message.hasPrefix("cannot read /nonexistent/sealpipe/topology.yaml") == true)
        }
    }
}

extension TopologyValidationTests {
    static let secondaryCases: [Case] = [
        Case(
            label: "a section of the wrong type is not also reported missing",
            yaml: valid(replacing: "stages:", with: "stages: {}\nunused:").components(separatedBy: "unused:")[0],
            expected: ["stages: expected a list"]),
        Case(
            label: "a broken host is not also unknown where it is used",
            yaml: valid(replacing: "model:", with: "hosts: {local: {address: 127.0.0.1}, gw: [1]}\nmodel:")
                .replacingOccurrences(of: "kms:\n", with: "kms:\n  host: local\n")
                .replacingOccurrences(of: "gateway:\n", with: "gateway:\n  host: gw\n")
                .replacingOccurrences(of: "kind: tokenizer}", with: "kind: tokenizer, host: local}")
                .replacingOccurrences(of: "kind: pooling}", with: "kind: pooling, host: local}")
                .replacingOccurrences(of: "layers: [0, 3]}", with: "layers: [0, 3], host: local}")
                .replacingOccurrences(of: "layers: [3, 6]}", with: "layers: [3, 6], host: local}"),
            expected: ["hosts.gw: expected a mapping"]),
        Case(
            label: "a bad host address",
            yaml: valid(replacing: "model:", with: "hosts: {local: {address: \"10.0.0.1 \"}}\nmodel:"),
            expected: ["hosts.local.address: \"10.0.0.1 \" is not an IP address or host name"]),
        Case(
            label: "a wrongly typed list item names its index",
            yaml: valid(replacing: "layers: [3, 6]", with: "layers: [3, six]"),
            expected: ["stages[2].layers[1]: expected an integer"]),
    ]

    @Test("secondary problems are not piled on a first one", arguments: secondaryCases)
    func secondary(_ broken: Case) {
        #expect(Self.problems(broken.yaml) == broken.expected)
    }
}

extension TopologyValidationTests {
    @Test("a wrongly typed field does not hide a pipeline error elsewhere")
    func typeErrorKeepsShapeErrors() {
        let yaml = Self.valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], replicas: two}")
            .replacingOccurrences(of: "layers: [3, 6]", with: "layers: [3, 5]")
        #expect(
            Self.problems(yaml) == [
                "stages[1].replicas: expected an integer",
                "stages: the encoders cover layers 0..<5 but the model has 6",
            ])
    }

    @Test("a broken stage item does not also make the list incomplete")
    func brokenItem() {
        let yaml = Self.valid(replacing: "{name: shard-1, kind: encoder, layers: [3, 6]}", with: "[shard-1]")
        #expect(Self.problems(yaml) == ["stages[2]: expected a mapping"])
    }
}

extension TopologyValidationTests {
    @Test("a policy role is still checked when an unrelated stage setting is broken")
    func policyRolesWithBrokenStage() {
        let yaml = Self.valid(replacing: "layers: [3, 6]", with: "layers: [3, 9]")
            .replacingOccurrences(
                of: "  endpoint: tcp://127.0.0.1:6550",
                with:
                    "  endpoint: tcp://127.0.0.1:6550\n  policy: {roles: {shard-1: {evidence: {simulated: {allowDebug: true}}}, shard-2: {}}}"
            )
        #expect(
            Self.problems(yaml) == [
                "stages[2].layers: range 3..<9 exceeds the model's 6 layers",
                "kms.policy.roles.shard-2: unknown role (roles are gateway, preprocessor, shard-0, shard-1, postprocessor)",
            ])
    }
}
