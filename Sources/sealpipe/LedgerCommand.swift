import ArgumentParser
import Foundation
import KeyBroker
import Sodium
import Trust

/// `sealpipe ledger`: check or publish the key broker's transparency log, offline.
struct LedgerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Verify or export the key broker's transparency log.",
        subcommands: [Verify.self, Export.self])

    struct Source: ParsableArguments {
        @Option(help: "The broker's SQLite state (read only; the root key is not needed).")
        var db: String?

        @Option(help: "A log exported with `sealpipe ledger export`.")
        var export: String?

        func load() throws -> LedgerExport {
            switch (db, export) {
            case (let db?, nil):
                return try KeyBrokerStore.readLedger(path: db)
            case (nil, let file?):
                return try JSONDecoder().decode(LedgerExport.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            default:
                throw ValidationError("give exactly one of --db PATH or --export FILE")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every entry and tree head: signatures, recomputed roots, consistency between heads.",
            discussion: "Exits 0 only if the whole log verifies.")

        @OptionGroup var source: Source

        @Option(help: "The broker identity public key (hex) you expect; without it the log's own key is used.")
        var identity: String?

        func run() throws {
            let ledger = try source.load()
            var pinned: SigningPublicKey?
            if let identity {
                guard let bytes = Hex.decode(identity.lowercased()), let key = try? SigningPublicKey(bytes: bytes)
                else {
                    throw ValidationError("--identity: not a 32-byte Ed25519 public key in hex")
                }
                pinned = key
            }
            let report = LedgerVerifier.verify(ledger, pinnedIdentity: pinned)
            print("identity    \(Hex.encode(ledger.identityKey.bytes))\(pinned == nil ? " (not pinned)" : "")")
            print("entries     \(report.entryCount)")
            for (type, count) in report.entryCounts.sorted(by: { $0.key < $1.key }) {
                print("  \(type.padding(toLength: 24, withPad: " ", startingAt: 0)) \(count)")
            }
            print("tree heads  \(report.treeHeadCount)")
            print("root        \(Hex.encode(report.rootHash))")
            if report.isValid {
                print("ledger verifies: every tree head is signed, matches the entries and extends the one before")
            } else {
                for problem in report.problems { print("FAILED: \(problem)") }
                throw ExitCode(1)
            }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the log (entries, tree heads, identity key) as JSON.")

        @Option(help: "The broker's SQLite state.")
        var db: String

        @Option(help: "Output file; standard output when omitted.")
        var output: String?

        func run() throws {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(try KeyBrokerStore.readLedger(path: db))
            if let output {
                try data.write(to: URL(fileURLWithPath: output), options: .withoutOverwriting)
            } else {
                FileHandle.standardOutput.write(data)
                print()
            }
        }
    }
}
