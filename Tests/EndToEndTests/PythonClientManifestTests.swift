import Foundation
import Sodium
import Testing
import Trust
import ZeroMQ

extension PythonInteropTests {
    /// A manifest signed here, as the key broker signs one, served to `Scripts/client.py`.
    struct ManifestCase {
        let broker = SigningKeyPair.generate()
        var manifest: PipelineManifest

        /// Only what `client.py` reads (docs/protocol.md §2: a minimal client checks the
        /// signature, the times, the epoch bound and the policy summary); the policy entry and
        /// its proof, which a full verifier checks, are `ManifestVerifierTests`' business.
        init(kinds: [String: [String]]) {
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            let summary = kinds.keys.sorted().map { role in
                RolePolicySummary(
                    role: role,
                    evidence: kinds[role]!.sorted().map {
                        .init(kind: $0, allowDebug: false, measurements: [String(repeating: "ab", count: 48)])
                    })
            }
            manifest = PipelineManifest(
                pipelineID: "interop", frontRole: "preprocessor",
                frontKey: EpochPublicKey(epoch: 7, key: BoxKeyPair.generate().publicKey), previousFrontKey: nil,
                resultRole: "postprocessor", resultSigner: SigningKeyPair.generate().publicKey, policyDigest: [],
                policyEntry: [], policyEntryIndex: 0,
                treeHead: SignedTreeHead.sign(treeSize: 0, rootHash: SHA256.hash([]), timestamp: now, with: broker),
                policyInclusionProof: [], issuedAt: now - 1000, expiresAt: now + 60_000, epochEndsAt: now + 30_000,
                graceMilliseconds: 30_000, policySummary: summary
            ).signed(with: broker)
        }

        /// Serves the manifest to `client.py` (with `arguments`) and catches what it sends to
        /// the front. Returns its exit status, standard error, and whether a job reached the front.
        func runClient(_ arguments: [String]) throws -> (status: Int32, errors: String, sentJob: Bool) {
            let context = try ZMQContext()
            let kms = try context.socket(.router)
            let kmsEndpoint = try kms.bind("tcp://127.0.0.1:*")
            let front = try context.socket(.router)
            let frontEndpoint = try front.bind("tcp://127.0.0.1:*")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                [
                    "python3", PythonPeer.repositoryRoot.appendingPathComponent("Scripts/client.py").path,
                    "--kms", kmsEndpoint, "--front", frontEndpoint, "--kms-key", Hex.encode(broker.publicKey.bytes),
                    "--timeout", "1",
                ] + arguments
            let stdin = Pipe()
            let stderr = Pipe()
            process.standardInput = stdin
            process.standardOutput = FileHandle.nullDevice
            process.standardError = stderr
            try process.run()
            stdin.fileHandleForWriting.write(Data("{\"text\": \"abcd\"}\n".utf8))
            try stdin.fileHandleForWriting.close()

            let request = try #require(try kms.receive(timeout: .seconds(20)), "client.py never asked for the manifest")
            try kms.send([request[0], [], try KMSResponse(status: .ok, manifest: manifest).encoded()])
            let job = try front.receive(timeout: .seconds(5))
            let status = PythonPeer(process: process).waitForExit()
            let errors = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (status, errors, job.map { $0.count == 3 } ?? false)
        }
    }

    @Test func pythonClientRefusesSimulatedEvidenceUnlessAllowed() throws {
        let simulated = ManifestCase(kinds: [
            "preprocessor": ["simulated"], "shard-0": ["sev-snp", "simulated"], "postprocessor": ["sev-snp"],
        ])
        let refused = try simulated.runClient([])
        #expect(refused.status != 0)
        #expect(!refused.sentJob, "nothing is sealed to a refused pipeline")
        #expect(refused.errors.contains("refusing: the policy accepts SIMULATED evidence for preprocessor, shard-0;"))

        let allowed = try simulated.runClient(["--allow-simulated", "--verbose"])
        #expect(allowed.sentJob, "\(allowed.errors)")
        #expect(allowed.errors.contains("WARNING: SIMULATED pipeline: preprocessor, shard-0 accept simulated evidence"))
        #expect(allowed.errors.contains("client.py: shard-0: sev-snp (debug refused, 1 measurement); simulated"))

        let hardware = ManifestCase(kinds: ["preprocessor": ["sev-snp"], "postprocessor": ["sev-snp"]])
        let accepted = try hardware.runClient([])
        #expect(accepted.sentJob, "\(accepted.errors)")
        #expect(!accepted.errors.contains("SIMULATED"))
    }

    @Test func pythonClientRefusesAnAlteredSummaryAndAManifestThatOutlivesItsEpoch() throws {
        var hidden = ManifestCase(kinds: ["preprocessor": ["simulated"], "postprocessor": ["sev-snp"]])
        hidden.manifest.policySummary[1].evidence[0].kind = "sev-snp"
        let altered = try hidden.runClient([])
        #expect(altered.status != 0 && !altered.sentJob)
        #expect(altered.errors.contains("the manifest is not signed by the pinned key broker"))

        var late = ManifestCase(kinds: ["preprocessor": ["sev-snp"]])
        late.manifest.expiresAt = late.manifest.epochEndsAt + late.manifest.graceMilliseconds + 1
        late.manifest = late.manifest.signed(with: late.broker)
        let outlives = try late.runClient([])
        #expect(outlives.status != 0 && !outlives.sentJob)
        #expect(outlives.errors.contains("the manifest outlives its key epoch plus grace"))
    }
}
