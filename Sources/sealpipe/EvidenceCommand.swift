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
                Exits 0 when every check passes, 1 when the evidence is refused (every failed check is \
                named), 2 on a usage error.
                  sealpipe evidence verify --kind sev-snp report.bin --vcek vcek.der --chain chain.pem --at 2025-01-01T00:00:00Z
                  sealpipe evidence verify --kind simulated report.bin --platform-key platform.pub --measurement HEX
                  sealpipe evidence verify --kind tdx quote.dat --collateral collateral.json --mrtd HEX
                  sealpipe evidence verify --kind nvidia-gpu report.txt --cert-chain chain.pem --nonce HEX \
                      --rim driver.swidtag --rim vbios.swidtag
                A TDX quote without --collateral is refused unless --allow-missing-collateral is given.
                """)

        @Option(help: "Evidence kind: sev-snp, tdx, nvidia-gpu or simulated.")
        var kind: String

        @Argument(help: "The report or quote: binary, or hex text.")
        var report: String

        @Option(help: "SEV-SNP: the VCEK or VLEK certificate (DER or PEM).")
        var vcek: String?

        @Option(help: "SEV-SNP: the ASK/ASVK and ARK certificates (PEM or DER; AMD KDS cert_chain).")
        var chain: [String] = []

        @Option(help: "SEV-SNP: an AMD CRL signed by the ARK (DER or PEM); repeatable. Given, revocation is checked.")
        var crl: [String] = []

        @Option(help: "Simulated: a trusted platform public key file (platform.pub); repeatable.")
        var platformKey: [String] = []

        @Option(help: "TDX: collateral in the PCCS / dcap-qvl JSON layout.")
        var collateral: String?

        @Flag(help: "TDX: accept a quote without collateral (TCB status and revocation then unknown).")
        var allowMissingCollateral = false

        @Option(help: "TDX: an accepted MRTD in hex; repeatable. Without it the MRTD is shown, not checked.")
        var mrtd: [String] = []

        @Option(help: "NVIDIA GPU: the device certificate chain (PEM, leaf first).")
        var certChain: String?

        @Option(
            help: "NVIDIA GPU: the expected 32-byte request nonce in hex. Without it the nonce is shown, not checked.")
        var nonce: String?

        @Option(
            help: """
                NVIDIA GPU: a driver or VBIOS reference integrity manifest (RIM, SWID tag); repeatable. Its \
                signature is checked at --at and every active measurement must match.
                """)
        var rim: [String] = []

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
        var vmpl: Int?

        @Option(help: "Simulated: maximum report age in seconds.")
        var maxAge: Int = 300

        @Flag(help: "Print the result as JSON.")
        var json = false

        func validate() throws {
            let given: [(String, Bool)] = [
                ("--vcek", vcek != nil), ("--chain", !chain.isEmpty), ("--crl", !crl.isEmpty),
                ("--platform-key", !platformKey.isEmpty),
                ("--collateral", collateral != nil), ("--allow-missing-collateral", allowMissingCollateral),
                ("--mrtd", !mrtd.isEmpty), ("--cert-chain", certChain != nil), ("--nonce", nonce != nil),
                ("--rim", !rim.isEmpty),
                ("--measurement", !measurement.isEmpty), ("--report-data", reportData != nil),
                ("--allow-debug", allowDebug), ("--min-tcb", minTcb != nil), ("--vmpl", vmpl != nil),
            ]
            let allowed: Set<String>
            switch EvidenceKind(rawValue: kind) {
            case .sevSNP:
                allowed = [
                    "--vcek", "--chain", "--crl", "--measurement", "--report-data", "--allow-debug", "--min-tcb",
                    "--vmpl",
                ]
            case .simulated: allowed = ["--platform-key", "--measurement", "--report-data", "--allow-debug"]
            case .tdx:
                allowed = [
                    "--collateral", "--allow-missing-collateral", "--mrtd", "--measurement", "--report-data",
                    "--allow-debug",
                ]
            case .nvidiaGPU: allowed = ["--cert-chain", "--nonce", "--rim"]
            default:
                throw ValidationError(
                    "--kind: unknown evidence kind \"\(kind)\" (sev-snp, tdx, nvidia-gpu or simulated)")
            }
            for (name, present) in given where present && !allowed.contains(name) {
                throw ValidationError("\(name) does not apply to --kind \(kind)")
            }
            if EvidenceKind(rawValue: kind) == .nvidiaGPU, certChain == nil {
                throw ValidationError("--kind nvidia-gpu needs --cert-chain CHAIN.pem")
            }
        }

        func run() throws {
            let now = try parseTime()
            let evidenceKind = EvidenceKind(rawValue: kind)
            let reportBytes = ManualVerification.reportBytes(fromFile: try readFile(report))
            let verifier: any EvidenceVerifier
            var certificates: [[UInt8]] = []
            var policy = EvidencePolicy(measurements: [], allowDebug: allowDebug)
            var collateralProblem: String?
            var rimProblems: [String] = []
            switch evidenceKind {
            case .sevSNP:
                guard let vcek else { throw ValidationError("--kind sev-snp needs --vcek CERT") }
                certificates = try CertificateFile.derCertificates(from: try readFile(vcek))
                let chainCertificates = try chain.flatMap {
                    try CertificateFile.derCertificates(from: try readFile($0))
                }
                let crls = try crl.map { path in
                    let bytes = try readFile(path)
                    return TDXCollateral.pemBlock(String(decoding: bytes, as: UTF8.self), label: "X509 CRL") ?? bytes
                }
                verifier = SEVSNPVerifier(chain: chainCertificates, crls: crls)
                policy.minimumTCB = try parseTCB()
                policy.vmpl = vmpl ?? 0
            case .simulated:
                guard !platformKey.isEmpty else { throw ValidationError("--kind simulated needs --platform-key PUB") }
                let keys = try platformKey.map { try PlatformKey.loadPublicKey(from: URL(fileURLWithPath: $0)) }
                verifier = SimulatedVerifier(trustedPlatformKeys: keys, maximumAge: TimeInterval(maxAge))
            case .tdx:
                var collaterals: [TDXCollateral] = []
                if let collateral {
                    do {
                        collaterals = [try TDXCollateral(json: try readFile(collateral))]
                    } catch {
                        collateralProblem = "\(collateral): \(error)"
                    }
                }
                verifier = TDXVerifier(collateral: collaterals)
                policy.tdx = TDXPolicy(allowMissingCollateral: allowMissingCollateral && collateral == nil ? true : nil)
            case .nvidiaGPU:
                guard let certChain else { throw ValidationError("--kind nvidia-gpu needs --cert-chain CHAIN.pem") }
                let chainBytes = try readFile(certChain)
                // A chain file that is not PEM or DER is bad evidence, refused by the chain check.
                certificates = (try? CertificateFile.derCertificates(from: chainBytes)) ?? [chainBytes]
                // A RIM that does not read as one is refused by the gpu-rim check, naming the file.
                var rims: [NVIDIARIM] = []
                for path in rim {
                    do { rims.append(try NVIDIARIM(bytes: try readFile(path))) } catch let error as AttestationError {
                        rimProblems.append("\(path): \(error)")
                    }
                }
                verifier = try NVIDIAGPUVerifier(rims: rims)
                policy.allowDebug = false
            default:
                throw ValidationError("--kind: unknown evidence kind \"\(kind)\"")
            }
            let measurements = try (measurement + mrtd).map { text in
                guard let bytes = Hex.decodeLoose(text) else {
                    throw ValidationError("--measurement/--mrtd: \"\(text)\" is not hex")
                }
                return bytes
            }
            let expectedReportData = try reportData.map { text in
                guard let bytes = Hex.decodeLoose(text), bytes.count == ReportData.byteCount else {
                    throw ValidationError("--report-data: expected 64 bytes of hex")
                }
                return bytes
            }
            let expectedNonce = try nonce.map { text in
                guard let bytes = Hex.decodeLoose(text), bytes.count == GPUNonce.byteCount else {
                    throw ValidationError("--nonce: expected 32 bytes of hex")
                }
                return bytes
            }
            var result = ManualVerification.verify(
                Evidence(kind: evidenceKind, report: reportBytes, certificates: certificates), with: verifier,
                measurements: measurements.isEmpty ? nil : measurements, reportData: expectedReportData,
                gpuNonce: expectedNonce, policy: policy, now: now)
            if let collateralProblem, let index = result.checks.firstIndex(where: { $0.name == "collateral" }) {
                result.checks[index] = .init("collateral", passed: false, detail: collateralProblem)
            }
            if !rimProblems.isEmpty {
                let name = NVIDIAGPUVerifier.CheckName.rim
                var detail = rimProblems.joined(separator: "; ")
                if let index = result.checks.firstIndex(where: { $0.name == name }) {
                    if !result.checks[index].passed { detail += "; " + result.checks[index].detail }
                    result.checks[index] = .init(name, passed: false, detail: detail)
                } else {
                    result.checks.append(.init(name, passed: false, detail: detail))
                }
            }
            print(json ? result.renderedJSON() : result.renderedText())
            guard result.passed else {
                let names = result.checks.filter { !$0.passed }.map(\.name)
                let list = names.isEmpty ? "(no check ran)" : names.joined(separator: ", ")
                FileHandle.standardError.write(Data("sealpipe: evidence refused: failed checks: \(list)\n".utf8))
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
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return decode(trimmed.hasPrefix("0x") ? String(trimmed.dropFirst(2)) : trimmed)
    }
}
