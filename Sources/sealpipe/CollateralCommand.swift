import ArgumentParser
import Attestation
import Foundation

/// `sealpipe collateral`: the offline collateral cache the broker verifies TDX quotes with.
struct CollateralCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collateral", abstract: "Import and inspect cached attestation collateral (offline).",
        discussion: """
            The broker reads collateral only from its cache directory (kms.collateral in the topology); \
            nothing is fetched while verifying. Copy collateral onto an air-gapped host and import it:
              sealpipe collateral import downloaded/ --cache .sealpipe/collateral
              sealpipe collateral status --cache .sealpipe/collateral
            """,
        subcommands: [Import.self, Status.self])

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Check and store collateral: TDX (PCCS/dcap-qvl .json), AMD ARK CRLs (.crl); a file or a directory."
        )

        @Argument(help: "A collateral JSON file, or a directory of them.")
        var source: String

        @Option(help: "The cache directory.")
        var cache = ".sealpipe/collateral"

        func run() throws {
            let url = URL(fileURLWithPath: source)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw ValidationError("\(source): no such file or directory")
            }
            let files =
                isDirectory.boolValue
                ? try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                    .filter { ["json", "crl"].contains($0.pathExtension) }.sorted { $0.path < $1.path }
                : [url]
            let store = CollateralCache(directory: URL(fileURLWithPath: cache))
            var refused = 0
            for file in files {
                do {
                    if file.pathExtension == "crl" {
                        let stored = try store.importAMDCRL([UInt8](try Data(contentsOf: file)))
                        print(
                            "imported \(file.lastPathComponent): AMD CRL → \(stored.file), next update "
                                + "\(stored.nextUpdate.map { $0.formatted(.iso8601) } ?? "?")")
                        continue
                    }
                    let collateral = try TDXCollateral(json: [UInt8](try Data(contentsOf: file)))
                    let item = try store.importTDX(collateral)
                    print(
                        "imported \(file.lastPathComponent): TDX FMSPC \(item.fmspc) → \(item.file), "
                            + "usable until \(item.expires.map { $0.formatted(.iso8601) } ?? "?")")
                } catch {
                    refused += 1
                    print("refused \(file.lastPathComponent): \(error)")
                }
            }
            if files.isEmpty { print("no .json or .crl collateral in \(source)") }
            if refused > 0 || files.isEmpty { throw ExitCode(1) }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List cached collateral with each part's issue and next-update dates; flags stale items.")

        @Option(help: "The cache directory.")
        var cache = ".sealpipe/collateral"

        @Option(help: "Judge staleness as of this time (ISO 8601); default now.")
        var at: String?

        @Option(help: "Also flag items whose oldest part was issued more than this many seconds ago.")
        var maxAge: Double?

        func run() throws {
            let now: Date
            if let at {
                guard let date = try? Date(at, strategy: .iso8601) else {
                    throw ValidationError("--at: \"\(at)\" is not an ISO 8601 time")
                }
                now = date
            } else {
                now = Date()
            }
            let items = try CollateralCache(directory: URL(fileURLWithPath: cache)).items()
            if items.isEmpty { print("no collateral in \(cache)") }
            var stale = 0
            for item in items {
                var verdict = "usable"
                if let oldest = item.oldest, oldest > now {
                    verdict = "NOT YET VALID (issued \(oldest.formatted(.iso8601)))"
                } else if let expires = item.expires, expires < now {
                    verdict = "STALE since \(expires.formatted(.iso8601))"
                } else if item.expires == nil {
                    verdict = "STALE (a part has no next update)"
                } else if let maxAge, let oldest = item.oldest, now.timeIntervalSince(oldest) > maxAge {
                    verdict = "TOO OLD (issued \(oldest.formatted(.iso8601)))"
                }
                if verdict != "usable" { stale += 1 }
                print("\(item.file): TDX FMSPC \(item.fmspc): \(verdict)")
                for (what, issued, next) in item.dates {
                    let i = issued.map { $0.formatted(.iso8601) } ?? "?"
                    let n = next.map { $0.formatted(.iso8601) } ?? "?"
                    print("  \(what): issued \(i), next update \(n)")
                }
            }
            if stale > 0 { throw ExitCode(1) }
        }
    }
}
