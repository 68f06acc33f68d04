import Attestation
import Foundation
import Testing

@testable import Node

/// A stage node picks its evidence from its role's policy and what the host can produce, and
/// refuses to start rather than present a kind its policy does not accept.
@Suite("Node evidence")
struct NodeEvidenceTests {
    let directory: URL = FileManager.default.temporaryDirectory.appendingPathComponent(
        "sealpipe-node-\(UUID().uuidString)")

    func policy(_ kinds: [String]) -> RolePolicy {
        RolePolicy(allowedKinds: kinds, measurements: ["reference-build"])
    }

    func provider(_ kinds: [String], platformKey: Bool, configFS: Bool) throws -> any EvidenceProvider {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let keyFile = directory.appendingPathComponent(PlatformKey.secretFileName)
        if platformKey, !FileManager.default.fileExists(atPath: keyFile.path) {
            _ = try PlatformKey.create(in: directory)
        }
        let root = directory.appendingPathComponent("tsm/report")
        if configFS { try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true) }
        return try NodeEvidence.provider(
            role: "shard-0", policy: policy(kinds), measuredConfiguration: [1, 2, 3], platformKeyFile: keyFile,
            configFSRoot: root, warn: { _ in })
    }

    @Test func aHardwarePolicyOnAHostWithoutATEERefusesToStartAndSaysWhy() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        // Even with a simulated platform key lying around: the policy does not accept it.
        #expect {
            _ = try provider(["sev-snp"], platformKey: true, configFS: false)
        } throws: { error in
            let text = "\(error)"
            return text.contains("role shard-0 accepts evidence of kind sev-snp")
                && text.contains("no configfs-tsm report interface")
        }
    }

    @Test func aHardwarePolicyOnAConfidentialGuestUsesConfigFSTSM() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try provider(["sev-snp"], platformKey: false, configFS: true).kind == .sevSNP)
        // Hardware first, when the policy accepts both and the host has both.
        #expect(try provider(["sev-snp", "simulated"], platformKey: true, configFS: true).kind == .sevSNP)
    }

    @Test func theSimulatedTEEOnlyWhenThePolicyAcceptsIt() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try provider(["simulated"], platformKey: true, configFS: false).kind == .simulated)
        #expect(try provider(["sev-snp", "simulated"], platformKey: true, configFS: false).kind == .simulated)
        // No platform key on this host: a TEE the policy does not accept is no way out.
        try FileManager.default.removeItem(at: directory.appendingPathComponent(PlatformKey.secretFileName))
        #expect(throws: NodeEvidence.Failure.self) {
            _ = try provider(["simulated"], platformKey: false, configFS: true)
        }
    }

    @Test func aKindThisBuildCannotCollectIsNamed() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect {
            _ = try provider(["sev-snp+nvidia-gpu"], platformKey: true, configFS: false)
        } throws: { error in
            "\(error)".contains("cannot collect sev-snp+nvidia-gpu evidence")
        }
        #expect(try provider(["tdx"], platformKey: false, configFS: true).kind == .tdx)
    }
}
