public import Foundation
import Sodium

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Collects SEV-SNP or TDX evidence on a real guest through Linux configfs-tsm
/// (`/sys/kernel/config/tsm/report`): make an entry, write `inblob` (the 64 report-data bytes),
/// read `outblob` (the signed report, or for TDX the quote) and, for SEV-SNP, `auxblob` (the
/// host's certificate table), check that `generation` shows no other writer raced us, remove the
/// entry. The kernel's `provider` attribute must name the kind asked for.
public struct ConfigFSTSMProvider: EvidenceProvider {
    public static let defaultRoot = URL(fileURLWithPath: "/sys/kernel/config/tsm/report")

    /// What the provider is doing, for a test's stand-in kernel to react to.
    enum Event: Sendable {
        case created
        case wroteInblob
        case removing
    }

    /// `sev-snp` or `tdx`.
    public let kind: EvidenceKind
    public let root: URL
    /// The VMPL to request the report at (`privlevel`); nil leaves the kernel's default (0).
    public let privilegeLevel: Int?
    let kernel: (@Sendable (Event, URL) throws -> Void)?

    /// - Parameter kind: `.sevSNP` (provider `sev_guest`) or `.tdx` (provider `tdx_guest`; no
    ///   privilege level, no certificate table: the PCK chain travels in the quote).
    public init(root: URL = Self.defaultRoot, privilegeLevel: Int? = nil, kind: EvidenceKind = .sevSNP) {
        self.init(root: root, privilegeLevel: privilegeLevel, kind: kind, kernel: nil)
    }

    init(
        root: URL, privilegeLevel: Int?, kind: EvidenceKind = .sevSNP,
        kernel: (@Sendable (Event, URL) throws -> Void)?
    ) {
        self.kind = kind
        self.root = root
        self.privilegeLevel = privilegeLevel
        self.kernel = kernel
    }

    public func collect(reportData: [UInt8]) throws -> Evidence {
        guard reportData.count == ReportData.byteCount else {
            throw AttestationError.invalidReportData(expected: ReportData.byteCount, actual: reportData.count)
        }
        let entry = root.appendingPathComponent(
            "sealpipe-\(getpid())-\(Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) }))")
        guard mkdir(entry.path, 0o700) == 0 else {
            throw AttestationError.io(
                path: entry.path,
                reason:
                    "cannot create a configfs-tsm report entry (\(String(cString: strerror(errno)))); is this an SEV-SNP guest with configfs mounted?"
            )
        }
        defer {
            try? kernel?(.removing, entry)
            rmdir(entry.path)
        }
        try kernel?(.created, entry)

        let provider = try String(decoding: readAttribute(entry, "provider"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let (expected, platform) = kind == .tdx ? ("tdx_guest", "TDX") : ("sev_guest", "SEV-SNP")
        guard kind == .sevSNP || kind == .tdx else {
            throw AttestationError.refused("configfs-tsm cannot collect \(kind) evidence")
        }
        guard provider == expected else {
            throw AttestationError.refused("configfs-tsm provider is \"\(provider)\", not \(expected) (\(platform))")
        }
        if kind == .tdx, privilegeLevel != nil {
            throw AttestationError.refused("a TDX report has no privilege level (privlevel is SEV-SNP only)")
        }
        var writes = 0
        if let privilegeLevel {
            try writeAttribute(entry, "privlevel", Array("\(privilegeLevel)\n".utf8))
            writes += 1
        }
        try writeAttribute(entry, "inblob", reportData)
        writes += 1
        try kernel?(.wroteInblob, entry)

        let report = try readAttribute(entry, "outblob")
        let table = kind == .sevSNP ? (try? readAttribute(entry, "auxblob")) ?? [] : []
        let generationText = String(decoding: try readAttribute(entry, "generation"), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        guard let generation = Int(generationText), generation == writes else {
            throw AttestationError.refused(
                "configfs-tsm generation is \(generationText), expected \(writes): another writer changed the entry while we read it"
            )
        }
        let certificates = table.isEmpty ? [] : try SEVSNPCertificateTable.evidenceCertificates(from: table)
        return Evidence(kind: kind, report: report, certificates: certificates)
    }

    private func readAttribute(_ entry: URL, _ name: String) throws -> [UInt8] {
        let url = entry.appendingPathComponent(name)
        do {
            return [UInt8](try Data(contentsOf: url))
        } catch {
            throw AttestationError.io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
    }

    private func writeAttribute(_ entry: URL, _ name: String, _ bytes: [UInt8]) throws {
        let url = entry.appendingPathComponent(name)
        // configfs attributes take one write(2) each; no temporary file, no rename.
        let fd = open(url.path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw AttestationError.io(
                path: url.path, reason: "cannot open for writing (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw AttestationError.io(
                path: url.path, reason: "short or failed write (\(String(cString: strerror(errno))))")
        }
    }
}
