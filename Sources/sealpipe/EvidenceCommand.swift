import ArgumentParser
import Attestation
import Foundation
import Sodium

/// `sealpipe evidence`: inspect attestation evidence by hand.
struct EvidenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evidence", abstract: "Check attestation evidence by hand.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify one piece of evidence and print every check.",
            discussion: """
                Exits 0 only when every check passes; otherwise exits 1 and names the failed check.
                  sealpipe evidence verify --kind sev-snp report.bin --vcek vcek.der --chain cert_chain.pem --at 2025-01-01T00:00:00Z
                  sealpipe evidence verify --kind simulated report.bin --platform-key platform.pub --measurement HEX
                """)

        @Option(help: "Evidence kind: sev-snp or simulated.")
        var kind: String

        @Argument(help: "The report: binary, or hex text.")
        var report: String

        @Option(help: "SEV-SNP: the VCEK or VLEK certificate (DER or PEM).")
        var vcek: String?

        @Option(help: "SEV-SNP: the ASK/ASVK and ARK certificates (PEM or DER; AMD KDS cert_chain).")
        var chain: [String] = []

        @Option(help: "Simulated: a trusted platform public key file (platform.pub); repeatable.")
        var platformKey: [String] = []

        @Option(help: "Verify as of this time (ISO 8601, e.g. 2025-01-01T00:00:00Z); default now.")
        var at: String?

        @Option(help: "An accepted measurement in hex; repeatable. Without it the measurement is shown, not checked.")
        var measurement: [String] = []

        @Option(help: "The expected 64-byte report data in hex. Without it the report data is shown, not checked.")
        var reportData: String?

        @Flag(help: "Accept a debuggable guest.")
        var allowDebug = false

        @Option(help: "SEV-SNP: minimum TCB as a u64 (decimal or 0x hex), compared component by component.")
        var minTcb: String?

        @Option(help: "SEV-SNP: the VMPL the report must have been requested at.")
        var vmpl: Int = 0

        @Option(help: "Simulated: maximum report age in seconds.")
        var maxAge: Int = 300

        @Flag(help: "Print the result as JSON.")
        var json = false

        func run() throws {
            let now = try parseTime()
            let evidenceKind = EvidenceKind(rawValue: kind)
            let reportBytes = ManualVerification.reportBytes(fromFile: try readFile(report))
            let verifier: any EvidenceVerifier
            var certificates: [[UInt8]] = []
            switch evidenceKind {
            case .sevSNP:
                guard let vcek else { throw ValidationError("--kind sev-snp needs --vcek CERT") }
                certificates = try CertificateFile.derCertificates(from: try readFile(vcek))
                let chainCertificates = try chain.flatMap {
                    try CertificateFile.derCertificates(from: try readFile($0))
                }
                verifier = SEVSNPVerifier(chain: chainCertificates)
            case .simulated:
                guard !platformKey.isEmpty else { throw ValidationError("--kind simulated needs --platform-key PUB") }
                let keys = try platformKey.map { try PlatformKey.loadPublicKey(from: URL(fileURLWithPath: $0)) }
                verifier = SimulatedVerifier(trustedPlatformKeys: keys, maximumAge: TimeInterval(maxAge))
            default:
                throw ValidationError("--kind: unknown evidence kind \"\(kind)\" (sev-snp or simulated)")
            }
            let measurements = try measurement.map { text in
                guard let bytes = Hex.decodeLoose(text) else {
                    throw ValidationError("--measurement: \"\(text)\" is not hex")
                }
                return bytes
            }
            let expectedReportData = try reportData.map { text in
                guard let bytes = Hex.decodeLoose(text), bytes.count == ReportData.byteCount else {
                    throw ValidationError("--report-data: expected 64 bytes of hex")
                }
                return bytes
            }
            let policy = RolePolicy(
                allowedKinds: [evidenceKind.rawValue], measurements: [], allowDebug: allowDebug,
                minimumTCB: try parseTCB(), vmpl: vmpl)
            let result = ManualVerification.verify(
                Evidence(kind: evidenceKind, report: reportBytes, certificates: certificates), with: verifier,
                measurements: measurements.isEmpty ? nil : measurements, reportData: expectedReportData,
                policy: policy, now: now)
            print(json ? result.renderedJSON() : result.renderedText())
            guard result.passed else {
                let name = result.failedCheck?.name ?? "(no check ran)"
                FileHandle.standardError.write(Data("sealpipe: evidence refused: check \"\(name)\" failed\n".utf8))
                throw ExitCode(1)
            }
        }

        private func parseTime() throws -> Date {
            guard let at else { return Date() }
            guard let date = try? Date(at, strategy: .iso8601) else {
                throw ValidationError("--at: \"\(at)\" is not an ISO 8601 time like 2025-01-01T00:00:00Z")
            }
            return date
        }

        private func parseTCB() throws -> UInt64? {
            guard let minTcb else { return nil }
            let value = minTcb.lowercased().hasPrefix("0x") ? UInt64(minTcb.dropFirst(2), radix: 16) : UInt64(minTcb)
            guard let value else { throw ValidationError("--min-tcb: \"\(minTcb)\" is not a u64") }
            return value
        }

        private func readFile(_ path: String) throws -> [UInt8] {
            do {
                return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            } catch {
                throw ValidationError("\(path): cannot read (\(error.localizedDescription))")
            }
        }
    }
}

extension Hex {
    /// Hex with surrounding whitespace tolerated, as pasted on a command line.
    fileprivate static func decodeLoose(_ text: String) -> [UInt8]? {
        decode(text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
    }
}
