import Testing

@testable import Topology

/// `precision` on a stage: parsed for encoders, refused by name elsewhere or when unknown, and
/// measured with the stage's configuration only when it is not the default.
@Suite("Stage precision")
struct StagePrecisionTests {
    static func topology(_ yaml: String) throws -> Topology { try Topology(yaml: yaml) }

    @Test func encodersDefaultToFP32AndAcceptInt8() throws {
        let plain = try Self.topology(TopologyValidationTests.valid)
        #expect(plain.stages.allSatisfy { $0.precision == .fp32 })
        let int8 = try Self.topology(
            TopologyValidationTests.valid(replacing: "layers: [3, 6]}", with: "layers: [3, 6], precision: int8}"))
        #expect(int8.stage(named: "shard-1")?.precision == .int8)
        #expect(int8.stage(named: "shard-0")?.precision == .fp32)
        let explicit = try Self.topology(
            TopologyValidationTests.valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], precision: fp32}"))
        #expect(explicit.stage(named: "shard-0")?.precision == .fp32)
    }

    @Test(arguments: ["fp16", "INT8", "int4", ""])
    func unknownPrecisionsAreRefusedByName(_ value: String) {
        let yaml = TopologyValidationTests.valid(
            replacing: "layers: [0, 3]}", with: "layers: [0, 3], precision: \"\(value)\"}")
        #expect(
            TopologyValidationTests.problems(yaml) == [
                "stages[1].precision: unknown precision \"\(value)\" (known: fp32, int8)"
            ])
    }

    @Test func int8IsForEncodersOnly() {
        let yaml = TopologyValidationTests.valid(
            replacing: "{name: postprocessor, kind: pooling}",
            with: "{name: postprocessor, kind: pooling, precision: int8}")
        #expect(TopologyValidationTests.problems(yaml) == ["stages[3].precision: only encoder stages run in int8"])
    }

    @Test func int8IsMeasuredAndFP32BytesStayAsTheyWere() throws {
        let base = try Self.topology(TopologyValidationTests.valid)
        let explicit = try Self.topology(
            TopologyValidationTests.valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], precision: fp32}"))
        let int8 = try Self.topology(
            TopologyValidationTests.valid(replacing: "layers: [0, 3]}", with: "layers: [0, 3], precision: int8}"))
        func bytes(_ topology: Topology) -> String {
            TopologyDerivedTests.withoutDigest(topology.stageConfigurationBytes(role: "shard-0", modelFileDigests: [:]))
        }
        // fp32 written out or left to the default: the same bytes as before the field existed.
        #expect(bytes(explicit) == bytes(base))
        #expect(!bytes(base).contains("precision"))
        #expect(bytes(int8).contains(#""precision":"int8""#))
        #expect(bytes(int8) != bytes(base))
        #expect(int8.summary.contains("threads 1, int8"))
    }
}
