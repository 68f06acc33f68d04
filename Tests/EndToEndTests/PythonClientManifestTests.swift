import Foundation
import Sodium
import Testing
import Trust
import Wire
import ZeroMQ

extension PythonInteropTests {
    /// A manifest signed here, as the key broker signs one, served to `Scripts/client.py`.
    struct ManifestCase {
        let broker = SigningKeyPair.generate()
        let front = BoxKeyPair.generate()
        var manifest: PipelineManifest

        /// A manifest every check of docs/protocol.md §5.2 passes (but `simulated-evidence`, when
        /// a role accepts it): a real policy-change entry for a policy accepting `kinds`, in a
        /// signed log of three entries with its inclusion proof, and the policy's summary.
        init(kinds: [String: [String]]) throws {
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            let measurement = String(repeating: "ab", count: 48)
            let summary = kinds.keys.sorted().map { role in
                RolePolicySummary(
                    role: role,
                    evidence: kinds[role]!.sorted().map {
                        .init(kind: $0, allowDebug: false, measurements: [measurement])
                    })
            }
            // The policy's canonical bytes (docs/protocol.md §7.1), written out: keys sorted.
            let roles = kinds.keys.sorted().map { role in
                let evidence = kinds[role]!.sorted().map {
                    "\"\($0)\":{\"allowDebug\":false,\"measurements\":[\"\(measurement)\"]}"
                }
                return "\"\(role)\":{\"evidence\":{\(evidence.joined(separator: ","))}}"
            }
            let policy = Array("sealpipe-policy-v3\n{\"roles\":{\(roles.joined(separator: ","))}}".utf8)
            let entry = LogEntry.policyChange(
                .init(time: now, pipelineID: "interop", policy: policy, previousPolicyDigest: [])
            ).encoded
            var tree = MerkleTree()
            tree.append(leafData: [0])
            tree.append(leafData: entry)
            tree.append(leafData: [2])
            manifest = PipelineManifest(
                pipelineID: "interop", frontRole: "preprocessor",
                frontKey: EpochPublicKey(epoch: 7, key: front.publicKey), previousFrontKey: nil,
                resultRole: "postprocessor", resultSigner: SigningKeyPair.generate().publicKey,
                policyDigest: SHA256.hash(policy), policyEntry: entry, policyEntryIndex: 1,
                treeHead: SignedTreeHead.sign(treeSize: 3, rootHash: tree.root, timestamp: now, with: broker),
                policyInclusionProof: try tree.inclusionProof(index: 1, size: 3), issuedAt: now - 1000,
                expiresAt: now + 60_000, epochEndsAt: now + 30_000, graceMilliseconds: 30_000, policySummary: summary
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
        let simulated = try ManifestCase(kinds: [
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

        let hardware = try ManifestCase(kinds: ["preprocessor": ["sev-snp"], "postprocessor": ["sev-snp"]])
        let accepted = try hardware.runClient([])
        #expect(accepted.sentJob, "\(accepted.errors)")
        #expect(!accepted.errors.contains("SIMULATED"))
    }

    @Test func pythonClientRefusesAnUnloggedPolicyOrAWrongProof() throws {
        // Re-signed by the broker, so only the log checks can tell: a policy digest the logged
        // policy does not have, and a proof for another index.
        var unlogged = try ManifestCase(kinds: ["preprocessor": ["sev-snp"], "postprocessor": ["sev-snp"]])
        unlogged.manifest.policyDigest = SHA256.hash([1])
        unlogged.manifest = unlogged.manifest.signed(with: unlogged.broker)
        let refused = try unlogged.runClient([])
        #expect(refused.status != 0 && !refused.sentJob)
        #expect(refused.errors.contains("(policy-entry)"), "\(refused.errors)")

        var misplaced = try ManifestCase(kinds: ["preprocessor": ["sev-snp"], "postprocessor": ["sev-snp"]])
        misplaced.manifest.policyEntryIndex = 0
        misplaced.manifest = misplaced.manifest.signed(with: misplaced.broker)
        let wrongProof = try misplaced.runClient([])
        #expect(wrongProof.status != 0 && !wrongProof.sentJob)
        #expect(wrongProof.errors.contains("(inclusion-proof)"), "\(wrongProof.errors)")
    }

    @Test func pythonClientRefusesAnAlteredSummaryAndAManifestThatOutlivesItsEpoch() throws {
        var hidden = try ManifestCase(kinds: ["preprocessor": ["simulated"], "postprocessor": ["sev-snp"]])
        hidden.manifest.policySummary[1].evidence[0].kind = "sev-snp"
        let altered = try hidden.runClient([])
        #expect(altered.status != 0 && !altered.sentJob)
        #expect(altered.errors.contains("the manifest is not signed by the pinned key broker"))

        var late = try ManifestCase(kinds: ["preprocessor": ["sev-snp"]])
        late.manifest.expiresAt = late.manifest.epochEndsAt + late.manifest.graceMilliseconds + 1
        late.manifest = late.manifest.signed(with: late.broker)
        let outlives = try late.runClient([])
        #expect(outlives.status != 0 && !outlives.sentJob)
        #expect(outlives.errors.contains("the manifest outlives its key epoch plus grace"))
    }

    /// docs/protocol.md §9.3: a job refused as unknown_epoch is sent once more under a fresh
    /// manifest, as a new request (new job id, new reply key), and never a third time.
    @Test func pythonClientResendsAnUnknownEpochJobOnceAsANewRequest() throws {
        let pipeline = try ManifestCase(kinds: ["preprocessor": ["sev-snp"], "postprocessor": ["sev-snp"]])
        let context = try ZMQContext()
        let kms = try context.socket(.router)
        let kmsEndpoint = try kms.bind("tcp://127.0.0.1:*")
        let front = try context.socket(.router)
        let frontEndpoint = try front.bind("tcp://127.0.0.1:*")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", PythonPeer.repositoryRoot.appendingPathComponent("Scripts/client.py").path, "--kms",
            kmsEndpoint, "--front", frontEndpoint, "--kms-key", Hex.encode(pipeline.broker.publicKey.bytes),
            "--timeout", "5",
        ]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        stdin.fileHandleForWriting.write(Data("{\"text\": \"abcd\"}\n".utf8))
        try stdin.fileHandleForWriting.close()

        var sent: [(jobID: JobID, replyKey: [UInt8])] = []
        for attempt in 0..<2 {
            let request = try #require(try kms.receive(timeout: .seconds(20)), "no manifest request \(attempt)")
            try kms.send([request[0], [], try KMSResponse(status: .ok, manifest: pipeline.manifest).encoded()])
            let job = try #require(try front.receive(timeout: .seconds(10)), "no job sent on attempt \(attempt)")
            let header = try MessageHeader(decoding: job[1])
            let envelope = try SealedBox.open(job[2], with: pipeline.front).withUnsafeBytes {
                try JobEnvelope(decoding: Array($0))
            }
            #expect(envelope.jobID == header.jobID, "the sealed job id is the header's")
            sent.append((header.jobID, envelope.replyKey))
            let refusal = PipelineMessage.error(.unknownEpoch, jobID: header.jobID, message: "key epoch 7 has ended")
            try front.send([job[0]] + refusal.frames)
        }
        #expect(sent[0].jobID != sent[1].jobID, "a resent job has a new job id")
        #expect(sent[0].replyKey != sent[1].replyKey, "a resent job has a new reply key")
        #expect(try front.receive(timeout: .seconds(2)) == nil, "a job is resent once, never twice")
        let status = PythonPeer(process: process).waitForExit()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status != 0)
        #expect(output.contains("4: key epoch 7 has ended"), "\(output)")
    }
}
