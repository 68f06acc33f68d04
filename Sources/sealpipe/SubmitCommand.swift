import ArgumentParser
import BrokerClient
import Foundation
import Inference
import Launcher
import Node
import SealpipeClient
import Sodium
import StageRuntime
import Topology
import Trust
import Wire
import Workloads
import ZeroMQ

/// `sealpipe submit`: a client. It fetches and verifies the manifest against the pinned key
/// broker identity, seals each job to the front stage with a fresh reply key, and opens the
/// results, which only it can.
struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit jobs to a running pipeline, sealed end to end.",
        discussion: """
            sealpipe submit "a sentence" "another sentence"        prints the embeddings' cosine similarities
            sealpipe submit --input lines.jsonl > out.jsonl         JSON lines in and out, as `sealpipe embed`
            Where the pipeline is comes from --topology (default Topologies/minilm.yaml), or --front with --kms.
            The key broker's identity is pinned with --kms-key, or read from the file `sealpipe launch` writes.
            A pipeline whose policy accepts simulated evidence for any role is refused without --allow-simulated.
            """)

    @OptionGroup var location: PipelineLocation

    @Option(help: "JSON lines {\"text\": …} to embed; '-' for standard input (the default with no texts).")
    var input: String?

    @Argument(help: "Texts to embed; their cosine similarities are printed.")
    var texts: [String] = []

    @Option(
        help: """
            Ask every stage for a signed receipt and write each job's chain to DIR/JOBID.receipt.json, verified \
            against the key broker's log as it arrives (`sealpipe receipt verify` checks them again later).
            """)
    var receipts: String?

    @Option(help: "Write every client-side check (manifest, result signatures, receipts) with its values as JSON.")
    var verifyReport: String?

    /// A fresh verified target, for jobs refused because the pipeline's keys rotated meanwhile.
    var refresh: () throws -> PipelineTarget {
        let location = location
        return { try location.resolveTarget(announce: false) }
    }

    func run() async throws {
        let reportFile = verifyReport
        let resolved = try location.resolve { report in
            // A refused manifest is reported too: which checks failed, with their values.
            guard let reportFile else { return }
            try? report.json().write(to: URL(fileURLWithPath: reportFile), options: .atomic)
        }
        let client = try PipelineClient(target: resolved.target)
        let jobTimeout = Duration.milliseconds(Int64(location.timeout * 1000))
        if let receipts {
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: receipts), withIntermediateDirectories: true)
        }
        var checks = JobChecks(submit: self, resolved: resolved)
        defer { checks.finish() }
        if texts.isEmpty {
            let failures = try embedLines(client: client, timeout: jobTimeout, checks: &checks)
            if failures > 0 || checks.receiptFailures > 0 { throw ExitCode(1) }
        } else {
            let answers = try client.submitJobs(
                texts.map { Array($0.utf8) }, timeout: jobTimeout, receipts: receipts != nil, refreshTarget: refresh)
            var vectors: [[Float]] = []
            for (index, answer) in answers.enumerated() {
                checks.record(index: index, answer: answer)
                switch answer {
                case .success(let output):
                    vectors.append(EmbeddingCodec.decode(output.body) ?? [])
                case .failure(let error):
                    FileHandle.standardError.write(Data("job \(index): \(error)\n".utf8))
                    throw ExitCode(1)
                }
            }
            Output.line(SimilarityMatrix.render(texts: texts, vectors: vectors))
            if checks.receiptFailures > 0 { throw ExitCode(1) }
        }
    }

    /// Writes and verifies receipts as answers arrive, and gathers the verification report.
    struct JobChecks {
        let receiptDirectory: String?
        let reportFile: String?
        let resultSigner: String
        var report: VerificationReport
        let log: BrokerLog?
        var receiptFailures = 0
        var index = 0

        init(submit: SubmitCommand, resolved: PipelineLocation.Resolved) {
            receiptDirectory = submit.receipts
            reportFile = submit.verifyReport
            resultSigner = "\(resolved.manifest.resultRole) \(Hex.encode(resolved.manifest.resultSigner.bytes))"
            report = VerificationReport(
                manifest: resolved.manifest, report: resolved.report, pinnedBrokerKey: resolved.pinnedBrokerKey)
            if submit.receipts != nil, let endpoint = resolved.brokerEndpoint, let context = try? ZMQContext() {
                log = BrokerLog(
                    client: KeyBrokerClient(endpoint: endpoint, context: context, timeout: .seconds(5)),
                    brokerKey: resolved.pinnedBrokerKey)
            } else {
                log = nil
            }
        }

        mutating func record(index: Int, answer: Result<PipelineClient.JobOutput, ClientError>) {
            var verified: (file: String, report: ReceiptVerificationReport)?
            if let receiptDirectory, case .success(let output) = answer, let file = output.receipts {
                let path = URL(fileURLWithPath: receiptDirectory).appendingPathComponent("\(file.jobID).receipt.json")
                do {
                    try file.json().write(to: path, options: .atomic)
                } catch {
                    FileHandle.standardError.write(Data("job \(index): cannot write \(path.path): \(error)\n".utf8))
                }
                if let log {
                    let result = ReceiptVerifier.verify(file, log: log)
                    verified = (path.path, result)
                    if !result.passed {
                        receiptFailures += 1
                        let failed = result.failedChecks.map(\.rawValue).joined(separator: ", ")
                        FileHandle.standardError.write(Data("job \(index): receipts FAILED (\(failed))\n".utf8))
                    }
                } else {
                    receiptFailures += 1
                    FileHandle.standardError.write(
                        Data("job \(index): receipts not verified: no key broker endpoint to read the log from\n".utf8))
                }
            }
            report.add(index: index, answer: answer, resultSigner: resultSigner, receipts: verified)
        }

        func finish() {
            guard let reportFile else { return }
            do {
                try report.json().write(to: URL(fileURLWithPath: reportFile), options: .atomic)
            } catch {
                FileHandle.standardError.write(Data("--verify-report \(reportFile): cannot write: \(error)\n".utf8))
            }
        }
    }

    /// JSON lines in, JSON lines out in order; returns how many lines failed.
    func embedLines(client: PipelineClient, timeout: Duration, checks: inout JobChecks) throws -> Int {
        let handle: FileHandle
        if let input, input != "-" {
            guard let opened = FileHandle(forReadingAtPath: input) else {
                throw ValidationError("--input \(input): cannot open")
            }
            handle = opened
        } else {
            handle = .standardInput
        }
        let lines = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).split(
            separator: "\n", omittingEmptySubsequences: false)
        var failures = 0
        var window: [(line: Int, text: Result<String, JSONLinesEmbedder.LineError>)] = []
        func flush() throws {
            let texts = window.compactMap { try? $0.text.get() }
            var answers = try client.submitJobs(
                texts.map { Array($0.utf8) }, timeout: timeout, receipts: receipts != nil, refreshTarget: refresh
            ).makeIterator()
            for entry in window {
                switch entry.text {
                case .failure(let error):
                    failures += 1
                    FileHandle.standardError.write(Data("line \(error.line): \(error.message)\n".utf8))
                    Output.line(JSONLinesEmbedder.errorLine(error))
                case .success:
                    let answer = answers.next()
                    if let answer {
                        checks.record(index: checks.index, answer: answer)
                        checks.index += 1
                    }
                    switch answer {
                    case .success(let output)?:
                        Output.line(
                            JSONLinesEmbedder.resultLine(EmbeddingCodec.decode(output.body) ?? [], tokens: nil))
                    case .failure(let error)?:
                        failures += 1
                        let lineError = JSONLinesEmbedder.LineError(line: entry.line, message: "\(error)")
                        FileHandle.standardError.write(Data("line \(entry.line): \(error)\n".utf8))
                        Output.line(JSONLinesEmbedder.errorLine(lineError))
                    case nil:
                        break
                    }
                }
            }
            window.removeAll()
        }
        for (index, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            window.append((index + 1, JSONLinesEmbedder.parse(String(line), number: index + 1)))
            if window.count >= 256 { try flush() }
        }
        try flush()
        return failures
    }
}

/// Where a pipeline is and which key broker identity to trust: shared by `submit` and `loadtest`.
struct PipelineLocation: ParsableArguments {
    @OptionGroup var options: TopologyOption

    @Option(help: "The gateway's front endpoint (default: from the topology).")
    var front: String?

    @Option(help: "The key broker endpoint to fetch the manifest from (default: from the topology).")
    var kms: String?

    @Option(help: "The key broker's identity (64 hex digits) to pin (default: the file `sealpipe launch` wrote).")
    var kmsKey: String?

    @Option(help: "A manifest JSON file to use instead of fetching one (it is verified all the same).")
    var manifest: String?

    @Option(help: "Seconds the pipeline may take per job.")
    var timeout: Double = 60

    @Flag(help: "Print every manifest check and the evidence kinds protecting each role to standard error.")
    var verbose = false

    @Flag(
        help: """
            Use a pipeline whose policy accepts simulated evidence for some role (development and tests only: \
            a simulated TEE protects nothing from whoever runs the host). Refused without it.
            """)
    var allowSimulated = false

    /// Where to send jobs and which keys to use, from a verified manifest. `announce` prints the
    /// checks (with `--verbose`) and the simulated-evidence warning; a refresh after a key
    /// rotation passes false, having said it once.
    func resolveTarget(announce: Bool = true) throws -> PipelineTarget {
        try resolve(announce: announce).target
    }

    /// A verified target, with the manifest, its checks and where the broker is.
    struct Resolved {
        var target: PipelineTarget
        var manifest: PipelineManifest
        var report: ManifestVerificationReport
        var pinnedBrokerKey: SigningPublicKey
        var brokerEndpoint: String?
    }

    /// `refused`, if given, gets the report of a manifest that failed its checks before this throws.
    func resolve(announce: Bool = true, refused: ((VerificationReport) -> Void)? = nil) throws -> Resolved {
        let topology = (front == nil || (kms == nil && manifest == nil)) || kmsKey == nil ? try? options.load() : nil
        guard let frontEndpoint = front ?? topology?.frontEndpoint.description else {
            throw ValidationError("no front endpoint: pass --front or a valid --topology")
        }
        let pinnedHex: String
        if let kmsKey {
            pinnedHex = kmsKey
        } else if let topology,
            let text = try? String(
                contentsOf: LaunchPreparation.brokerIdentityFile(topology: topology), encoding: .utf8)
        {
            pinnedHex = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw ValidationError("no key broker identity to pin: pass --kms-key HEX (printed by `sealpipe launch`)")
        }
        guard let pinnedBytes = Hex.decode(pinnedHex), let pinned = try? SigningPublicKey(bytes: pinnedBytes) else {
            throw ValidationError("--kms-key: expected 64 hex digits, an Ed25519 public key")
        }
        let fetched: PipelineManifest
        let brokerEndpoint = kms ?? topology?.keyBrokerEndpoint.description
        if let manifest {
            fetched = try JSONDecoder().decode(
                PipelineManifest.self, from: Data(contentsOf: URL(fileURLWithPath: manifest)))
        } else {
            guard let endpoint = brokerEndpoint else {
                throw ValidationError("no key broker endpoint: pass --kms, --manifest or a valid --topology")
            }
            let broker = KeyBrokerClient(endpoint: endpoint, context: try ZMQContext(), timeout: .seconds(5))
            fetched = try broker.fetchManifestWaiting()
        }
        func say(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
        let report: ManifestVerificationReport
        do throws(ManifestRejection) {
            report = try KeyBrokerClient.verify(fetched, pinnedBrokerKey: pinned, allowSimulated: allowSimulated)
            if announce && verbose {
                for result in report.results {
                    let mark = result.passed.map { $0 ? "✓" : "✗" } ?? "-"
                    say("\(mark) manifest \(result.check.rawValue): \(result.detail)")
                }
                say("evidence protecting each role:")
                for role in fetched.policySummary { say("  \(role)") }
            }
        } catch {
            refused?(VerificationReport(manifest: fetched, report: error.report, pinnedBrokerKey: pinned))
            say("refusing to submit: \(error)")
            if error.refusedOnlyForSimulatedEvidence {
                let roles = fetched.rolesAcceptingSimulatedEvidence.joined(separator: ", ")
                say(
                    "refusing to submit: roles \(roles) accept SIMULATED evidence; pass --allow-simulated "
                        + "to use this pipeline anyway (development and tests only)")
            }
            throw ExitCode(2)
        }
        let simulated = fetched.rolesAcceptingSimulatedEvidence
        if announce && !simulated.isEmpty {
            say(
                "WARNING: SIMULATED pipeline: \(simulated.joined(separator: ", ")) accept simulated evidence, "
                    + "so no hardware protects them (allowed by --allow-simulated)")
        }
        return Resolved(
            target: try PipelineTarget(manifest: fetched, frontEndpoint: frontEndpoint), manifest: fetched,
            report: report, pinnedBrokerKey: pinned, brokerEndpoint: brokerEndpoint)
    }

}

/// The cosine similarities of embeddings, as a small table with each text's start as legend.
enum SimilarityMatrix {
    static func render(texts: [String], vectors: [[Float]]) -> String {
        var lines: [String] = []
        for (index, text) in texts.enumerated() {
            let shown = text.count > 60 ? String(text.prefix(57)) + "..." : text
            lines.append("[\(index)] \(shown)")
        }
        lines.append("")
        lines.append("cosine similarity")
        lines.append(
            "      " + texts.indices.map { "[\($0)]".padding(toLength: 7, withPad: " ", startingAt: 0) }.joined())
        for (row, a) in vectors.enumerated() {
            var line = "[\(row)]".padding(toLength: 6, withPad: " ", startingAt: 0)
            for b in vectors {
                line += String(format: "%-7.3f", Similarity.cosine(a, b))
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
