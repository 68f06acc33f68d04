import ArgumentParser
import BrokerClient
import Foundation
import Sodium
import Trust
import ZeroMQ

/// `sealpipe receipt verify`: checks a job's receipts (written by `sealpipe submit --receipts`)
/// against the key broker's log, offline from an exported ledger or online from the broker.
struct ReceiptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt", abstract: "Verify per-job receipts against the key broker's log.",
        subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check which attested stages, keys and model shards handled a job.",
            discussion: """
                sealpipe receipt verify JOB.receipt.json --ledger ledger.json --kms-key HEX
                sealpipe receipt verify receipts/*.receipt.json --kms tcp://127.0.0.1:5550 --kms-key HEX --json
                The ledger is `sealpipe ledger export`'s output. Checks: \
                \(ReceiptVerifier.Check.allCases.map(\.rawValue).joined(separator: ", ")).
                Exit status: 0 when every check of every receipt file passed, 1 when any failed (each failed \
                check is named), 2 on a usage error.
                """)

        @Argument(help: "Receipt files (JOBID.receipt.json).")
        var receipts: [String]

        @Option(help: "An exported ledger (`sealpipe ledger export`) to verify against, offline.")
        var ledger: String?

        @Option(help: "A key broker endpoint to fetch log entries from, each proven against --kms-key.")
        var kms: String?

        @Option(
            help: """
                The key broker's identity public key (64 hex digits) to pin. Required with --kms; with --ledger, \
                without it the ledger's own key is trusted (and the report says so).
                """)
        var kmsKey: String?

        @Flag(help: "Print one JSON object per receipt file instead of text.")
        var json = false

        func validate() throws {
            guard !receipts.isEmpty else { throw ValidationError("give at least one receipt file") }
            guard (ledger == nil) != (kms == nil) else {
                throw ValidationError("give exactly one of --ledger or --kms")
            }
            if kms != nil && kmsKey == nil { throw ValidationError("--kms needs --kms-key HEX to pin the broker") }
            if let kmsKey, Self.key(kmsKey) == nil {
                throw ValidationError("--kms-key: expected 64 hex digits, an Ed25519 public key")
            }
        }

        static func key(_ hex: String) -> SigningPublicKey? {
            Hex.decode(hex.lowercased()).flatMap { try? SigningPublicKey(bytes: $0) }
        }

        func run() throws {
            let pinned = kmsKey.flatMap(Self.key)
            let log: any ProvenLog
            var note: String?
            if let ledger {
                let export: LedgerExport
                do {
                    export = try JSONDecoder().decode(
                        LedgerExport.self, from: Data(contentsOf: URL(fileURLWithPath: ledger)))
                } catch {
                    throw ValidationError("--ledger \(ledger): not an exported ledger (\(error))")
                }
                log = ExportedLog(export, pinnedKey: pinned)
                if pinned == nil { note = "broker key not pinned: the ledger's own key was trusted" }
            } else {
                log = BrokerLog(
                    client: KeyBrokerClient(endpoint: kms!, context: try ZMQContext(), timeout: .seconds(5)),
                    brokerKey: pinned!)
            }
            var allPassed = true
            for path in receipts {
                let report: ReceiptVerificationReport
                let file: ReceiptFile?
                do {
                    let parsed = try ReceiptFile(json: try Data(contentsOf: URL(fileURLWithPath: path)))
                    file = parsed
                    report = ReceiptVerifier.verify(parsed, log: log)
                } catch {
                    file = nil
                    report = ReceiptVerificationReport(
                        results: [.init(check: .format, passed: false, detail: "\(path): \(error)")])
                }
                allPassed = allPassed && report.passed
                if json {
                    print(Self.json(path: path, file: file, report: report, note: note))
                } else {
                    print(
                        "\(path): \(report.passed ? "VERIFIED" : "FAILED (\(report.failedChecks.map(\.rawValue).joined(separator: ", ")))")"
                    )
                    if let file {
                        print(
                            "  job \(file.jobID) of \(file.pipelineID), epoch \(file.epoch), \(file.receipts.count) receipts"
                        )
                    }
                    if let note { print("  note: \(note)") }
                    for result in report.results {
                        print("  \(result.passed ? "✓" : "✗") \(result.check.rawValue): \(result.detail)")
                    }
                }
            }
            if !allPassed { throw ExitCode(1) }
        }

        static func json(path: String, file: ReceiptFile?, report: ReceiptVerificationReport, note: String?) -> String {
            struct Output: Encodable {
                var file: String
                var jobID: String?
                var pipelineID: String?
                var verified: Bool
                var failedChecks: [String]
                var checks: [ReceiptVerificationReport.Result]
                var note: String?
            }
            let output = Output(
                file: path, jobID: file?.jobID, pipelineID: file?.pipelineID, verified: report.passed,
                failedChecks: report.failedChecks.map(\.rawValue), checks: report.results, note: note)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(output)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
    }
}
