import Attestation
import Foundation
import Sodium
import Testing
import Trust
import Wire

/// Receipts and model versions on a live `Topologies/minilm.yaml` pipeline, through the CLI a
/// client and an auditor use.
extension EndToEndTests {
    /// 50 jobs with `--receipts`: every receipt verifies offline against the exported ledger, and
    /// every alteration of a real receipt — any field of any hop, a dropped hop, reordered hops —
    /// fails with the check named.
    @Test func fiftyJobsWithReceiptsVerifyOfflineAndEveryAlterationIsNamed() throws {
        let pipeline = try LaunchedPipeline(topology: "minilm.yaml")
        defer { _ = pipeline.stop() }
        let directory = pipeline.workingDirectory
        let lines = (0..<50).map { #"{"text": "receipted sentence number \#($0)"}"# }.joined(separator: "\n")
        let submit = try pipeline.run(
            [
                "submit", "--topology", "Topologies/minilm.yaml", "--allow-simulated", "--receipts", "receipts",
                "--verify-report", "report.json",
            ], input: Data(lines.utf8), timeout: 180)
        #expect(submit.status == 0, "\(submit.errors)")
        let receiptDirectory = directory.appendingPathComponent("receipts")
        let files = try FileManager.default.contentsOfDirectory(atPath: receiptDirectory.path).filter {
            $0.hasSuffix(".receipt.json")
        }.sorted()
        #expect(files.count == 50)

        // The verification report holds every manifest check and each job's receipt checks.
        let report =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: directory.appendingPathComponent("report.json"))) as? [String: Any]
        let manifestChecks = (report?["manifestChecks"] as? [[String: Any]])?.compactMap { $0["check"] as? String }
        for check in [
            "signature", "expiry", "tree-head-signature", "inclusion-proof", "policy-summary", "model-version",
        ] {
            #expect(manifestChecks?.contains(check) == true, "report lacks \(check)")
        }
        let jobs = report?["jobs"] as? [[String: Any]] ?? []
        #expect(jobs.count == 50)
        #expect(
            jobs.allSatisfy { job in
                (job["checks"] as? [[String: Any]])?.allSatisfy { $0["outcome"] as? String == "passed" } == true
            })

        let export = try pipeline.run(
            ["ledger", "export", "--db", ".sealpipe/minilm/kms.sqlite", "--output", "ledger.json"])
        #expect(export.status == 0, "\(export.errors)")
        let key = try pipeline.brokerIdentity(stateDirectory: "minilm")
        let paths = files.map { "receipts/\($0)" }
        let verified = try pipeline.run(
            ["receipt", "verify", "--ledger", "ledger.json", "--kms-key", key, "--json"] + paths)
        #expect(verified.status == 0, "\(verified.output)")
        #expect(verified.output.split(separator: "\n").count == 50)

        // Alter real receipts: each altered file must fail, naming a check that explains why.
        let original = try ReceiptFile(json: Data(contentsOf: receiptDirectory.appendingPathComponent(files[0])))
        let (_, receipts) = try original.decoded()
        #expect(receipts.map(\.role) == ["preprocessor", "shard-0", "shard-1", "postprocessor"])
        var altered: [(name: String, file: ReceiptFile, expected: String)] = []
        func with(_ receipts: [StageReceipt]) -> ReceiptFile {
            var file = original
            file.receipts = receipts.map { Hex.encode($0.encoded()) }
            return file
        }
        let fields: [(String, (inout StageReceipt) -> Void, String)] = [
            ("role", { $0.role = "shard-9" }, "path"),
            ("replica", { $0.replica += 1 }, "signature"),
            ("epoch", { $0.epoch += 1 }, "job-epoch"),
            ("release", { $0.releaseIndex += 1 }, "release-entry"),
            ("shard", { $0.shardDigest = [UInt8](repeating: 7, count: 32) }, "shard-digest"),
            ("input", { $0.inputDigest[0] ^= 1 }, "signature"),
            ("output", { $0.outputDigest[0] ^= 1 }, "signature"),
            ("time", { $0.time ^= 1 }, "signature"),
            ("signature", { $0.signature[0] ^= 1 }, "signature"),
        ]
        for hop in receipts.indices {
            for (name, alter, expected) in fields {
                var changed = receipts
                alter(&changed[hop])
                altered.append(("\(name)@\(hop)", with(changed), expected))
            }
        }
        altered.append(("dropped hop", with([receipts[0], receipts[2], receipts[3]]), "path"))
        altered.append(("reordered hops", with([receipts[1], receipts[0]] + receipts[2...]), "path"))
        var otherJob = original
        otherJob.jobID = Hex.encode(JobID.random().bytes)
        altered.append(("other job", otherJob, "signature"))
        var otherPipeline = original
        otherPipeline.pipelineID = "another-pipeline"
        altered.append(("other pipeline", otherPipeline, "pipeline"))

        let alteredDirectory = directory.appendingPathComponent("altered")
        try FileManager.default.createDirectory(at: alteredDirectory, withIntermediateDirectories: true)
        for (index, entry) in altered.enumerated() {
            try entry.file.json().write(to: alteredDirectory.appendingPathComponent("\(index).receipt.json"))
        }
        let refused = try pipeline.run(
            ["receipt", "verify", "--ledger", "ledger.json", "--kms-key", key, "--json"]
                + altered.indices.map { "altered/\($0).receipt.json" })
        #expect(refused.status == 1)
        let outputs = refused.output.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(outputs.count == altered.count)
        for (entry, output) in zip(altered, outputs) {
            let failed = output["failedChecks"] as? [String] ?? []
            #expect(output["verified"] as? Bool == false, "\(entry.name) verified")
            #expect(failed.contains(entry.expected), "\(entry.name): failed \(failed), expected \(entry.expected)")
        }

        // The Python client, written from docs/protocol.md, asks for receipts too, verifies them
        // itself, and what it writes verifies with `sealpipe receipt verify`.
        let python = try pipeline.run(
            [
                "python3", LaunchedPipeline.repositoryRoot.appendingPathComponent("Scripts/client.py").path,
                "--kms-key", key, "--front", "tcp://127.0.0.1:5555", "--kms", "tcp://127.0.0.1:5550",
                "--allow-simulated", "--receipts", "py-receipts", "--verify-report", "py-report.json",
            ], executable: URL(fileURLWithPath: "/usr/bin/env"),
            input: Data(lines.split(separator: "\n").prefix(5).joined(separator: "\n").utf8))
        #expect(python.status == 0, "\(python.errors)")
        let pythonFiles = try FileManager.default.contentsOfDirectory(
            atPath: directory.appendingPathComponent("py-receipts").path
        ).filter { $0.hasSuffix(".receipt.json") }
        #expect(pythonFiles.count == 5)
        let pythonVerified = try pipeline.run(
            ["receipt", "verify", "--ledger", "ledger.json", "--kms-key", key]
                + pythonFiles.map { "py-receipts/\($0)" })
        // The ledger was exported before these jobs: their releases are in it (stages attested
        // before the first job), so it still proves them.
        #expect(pythonVerified.status == 0, "\(pythonVerified.output)")

        // Online, against the running broker, the honest receipts verify too.
        let online = try pipeline.run(
            ["receipt", "verify", "--kms", "tcp://127.0.0.1:5550", "--kms-key", key, paths[0], paths[49]])
        #expect(online.status == 0, "\(online.output)")
        #expect(pipeline.stop() == 0)

        // Another pipeline of the same topology (its own broker, keys and log): these receipts,
        // checked against its ledger under its key, fail, and say why.
        let other = try LaunchedPipeline(topology: "minilm.yaml")
        defer { _ = other.stop() }
        let otherExport = try other.run(
            ["ledger", "export", "--db", ".sealpipe/minilm/kms.sqlite", "--output", "ledger.json"])
        #expect(otherExport.status == 0, "\(otherExport.errors)")
        let foreign = try other.run(
            [
                "receipt", "verify", "--ledger", "ledger.json", "--kms-key",
                try other.brokerIdentity(stateDirectory: "minilm"), "--json",
                receiptDirectory.appendingPathComponent(files[0]).path,
            ])
        #expect(foreign.status == 1, "\(foreign.output)")
        let foreignFailed =
            (try? JSONSerialization.jsonObject(with: Data(foreign.output.utf8)) as? [String: Any])?["failedChecks"]
            as? [String] ?? []
        #expect(
            foreignFailed.contains("signature") || foreignFailed.contains("release-entry"),
            "another pipeline's ledger: failed \(foreignFailed)")
        #expect(other.stop() == 0)
    }

    /// A worker whose sealed shard holds other content than the policy's model version — sealed
    /// under the right key, from an edited copy of the model — refuses to serve, naming the file,
    /// and the broker never logs a receipt-citable release with another shard digest.
    @Test func aStageWhoseShardWasChangedIsRefusedAtStart() throws {
        let pipeline = try LaunchedPipeline(topology: "minilm.yaml")
        defer { _ = pipeline.stop() }
        let directory = pipeline.workingDirectory
        // An edited model: one byte of the word embeddings (shard-0's) flipped.
        let edited = directory.appendingPathComponent("edited-model")
        try FileManager.default.createDirectory(at: edited, withIntermediateDirectories: true)
        let original = LaunchedPipeline.modelDirectory
        for file in try FileManager.default.contentsOfDirectory(atPath: original.path) where file != "model.safetensors"
        {
            try FileManager.default.createSymbolicLink(
                at: edited.appendingPathComponent(file), withDestinationURL: original.appendingPathComponent(file))
        }
        var weights = try Data(contentsOf: original.appendingPathComponent("model.safetensors"))
        let headerLength = Int(weights.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian })
        let header = try JSONSerialization.jsonObject(with: weights.subdata(in: 8..<8 + headerLength)) as? [String: Any]
        let tensor = try #require(header?["embeddings.word_embeddings.weight"] as? [String: Any])
        let start = try #require((tensor["data_offsets"] as? [Int])?.first)
        weights[8 + headerLength + start + 1000] ^= 0x40
        try weights.write(to: edited.appendingPathComponent("model.safetensors"))

        // Sealed again, under the broker's own key for the shard, from the edited model.
        let source = try String(contentsOf: directory.appendingPathComponent("Topologies/minilm.yaml"), encoding: .utf8)
        try source.replacingOccurrences(of: "directory: models/all-MiniLM-L6-v2", with: "directory: edited-model")
            .write(to: directory.appendingPathComponent("reseal.yaml"), atomically: true, encoding: .utf8)
        let reseal = try pipeline.run(["model", "seal", "--topology", "reseal.yaml", "--force"])
        #expect(reseal.status == 0, "\(reseal.errors)")

        let node = try pipeline.run(
            [
                "node", "--topology", "Topologies/minilm.yaml", "--role", "shard-0", "--replica", "0", "--metrics-port",
                "0",
            ],
            timeout: 90)
        #expect(node.status != 0)
        #expect(node.errors.contains("weights/shard-0.sealed"), "\(node.errors)")
        #expect(node.errors.contains("holds model content"), "\(node.errors)")
        // Every key release the broker logged names exactly the shard digest its policy lists:
        // a receipt, which must match its release, can never name another.
        let exported = try pipeline.run(["ledger", "export", "--db", ".sealpipe/minilm/kms.sqlite"])
        let ledger = try JSONDecoder().decode(LedgerExport.self, from: Data(exported.output.utf8))
        let entries = try ledger.entries.map { try LogEntry(encoded: $0) }
        var releases = 0
        for case .keyRelease(let release) in entries {
            guard case .policyChange(let change) = entries[Int(release.policyIndex)] else {
                Issue.record("release of \(release.role) cites \(release.policyIndex), not a policy")
                continue
            }
            let listed = try ReleasePolicy(canonicalBytes: change.policy).roles[release.role]?.shardDigest ?? ""
            #expect(Hex.encode(release.modelDigest) == listed, "\(release.role)")
            if release.role == "shard-0" { #expect(!listed.isEmpty) }
            releases += 1
        }
        #expect(releases >= 5)
        #expect(pipeline.stop() == 0)
    }
}
