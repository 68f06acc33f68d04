import Foundation
import TestVectors
import Testing

@testable import Attestation

/// A stand-in for the kernel's configfs-tsm: attribute files in a temp directory, answered the way
/// the sev_guest provider answers.
private struct FakeTSMKernel: Sendable {
    var provider = "sev_guest"
    var report: [UInt8]
    var auxblob: [UInt8]
    /// Extra writes another process makes between ours and our read of `generation`.
    var racingWrites = 0
    /// Where the provider's report carries the report data (SEV-SNP 0x50; TDX quote body 48 + 520).
    var reportDataOffset = 0x50

    func handle(_ event: ConfigFSTSMProvider.Event, _ entry: URL) throws {
        let fm = FileManager.default
        func put(_ name: String, _ bytes: [UInt8]) throws {
            try Data(bytes).write(to: entry.appendingPathComponent(name))
        }
        switch event {
        case .created:
            try put("provider", Array("\(provider)\n".utf8))
            try put("generation", Array("0\n".utf8))
            try put("inblob", [])
            try put("privlevel", [])
        case .wroteInblob:
            let inblob = [UInt8](try Data(contentsOf: entry.appendingPathComponent("inblob")))
            let privlevel = [UInt8](try Data(contentsOf: entry.appendingPathComponent("privlevel")))
            var outblob = report
            outblob.replaceSubrange(reportDataOffset..<reportDataOffset + 64, with: inblob)
            try put("outblob", outblob)
            if !auxblob.isEmpty { try put("auxblob", auxblob) }
            let writes = 1 + (privlevel.isEmpty ? 0 : 1) + racingWrites
            try put("generation", Array("\(writes)\n".utf8))
        case .removing:
            for name in try fm.contentsOfDirectory(atPath: entry.path) {
                try fm.removeItem(at: entry.appendingPathComponent(name))
            }
        }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ConfigFSTSMProviderTests {
    func temporaryRoot() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tsm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    let syntheticReport: [UInt8] = {
        var r = [UInt8](repeating: 0, count: SEVSNPReport.byteCount)
        r[0] = 2
        r[0x34] = 1
        return r
    }()

    @Test func collectsReportAndCertificatesAndRemovesItsEntry() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let vcek: [UInt8] = [0x30, 0x01, 0xAA]
        let ask: [UInt8] = [0x30, 0x01, 0xBB]
        let ark: [UInt8] = [0x30, 0x01, 0xCC]
        let table = SEVSNPCertificateTable.build([(.ark, ark), (.vcek, vcek), (.ask, ask)])
        let kernel = FakeTSMKernel(report: syntheticReport, auxblob: table)
        let provider = ConfigFSTSMProvider(root: root, privilegeLevel: nil, kernel: kernel.handle)
        let reportData = (0..<64).map { UInt8($0) }
        let evidence = try provider.collect(reportData: reportData)
        #expect(evidence.kind == .sevSNP)
        #expect(try SEVSNPReport(bytes: evidence.report).reportData == reportData)
        #expect(evidence.certificates == [vcek, ask, ark])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test func writesPrivilegeLevelAndCountsItsWrites() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let kernel = FakeTSMKernel(report: syntheticReport, auxblob: [])
        let provider = ConfigFSTSMProvider(root: root, privilegeLevel: 1, kernel: kernel.handle)
        let evidence = try provider.collect(reportData: [UInt8](repeating: 7, count: 64))
        #expect(evidence.certificates.isEmpty)
    }

    @Test func refusesARacedGeneration() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        var kernel = FakeTSMKernel(report: syntheticReport, auxblob: [])
        kernel.racingWrites = 1
        let provider = ConfigFSTSMProvider(root: root, privilegeLevel: nil, kernel: kernel.handle)
        #expect(throws: AttestationError.self) { try provider.collect(reportData: [UInt8](repeating: 0, count: 64)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).isEmpty)
    }

    @Test func refusesAnotherProvider() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        var kernel = FakeTSMKernel(report: syntheticReport, auxblob: [])
        kernel.provider = "tdx_guest"
        let provider = ConfigFSTSMProvider(root: root, privilegeLevel: nil, kernel: kernel.handle)
        #expect(throws: AttestationError.refused("configfs-tsm provider is \"tdx_guest\", not sev_guest (SEV-SNP)")) {
            try provider.collect(reportData: [UInt8](repeating: 0, count: 64))
        }
    }

    @Test func failsClearlyWithoutConfigFSAndOnWrongReportData() throws {
        let provider = ConfigFSTSMProvider(root: URL(fileURLWithPath: "/nonexistent/tsm/report"))
        #expect(throws: AttestationError.self) { try provider.collect(reportData: [UInt8](repeating: 0, count: 64)) }
        #expect(throws: AttestationError.invalidReportData(expected: 64, actual: 3)) {
            try provider.collect(reportData: [1, 2, 3])
        }
    }

    @Test func certificateTableRoundTripsAndRefusesBadOffsets() throws {
        let table = SEVSNPCertificateTable.build([(.vlek, [1, 2]), (.ask, [3])])
        let parsed = try SEVSNPCertificateTable.parse(table)
        #expect(parsed[.vlek] == [1, 2] && parsed[.ask] == [3] && parsed[.vcek] == nil)
        // The VCEK GUID's first field is stored little-endian.
        #expect(SEVSNPCertificateTable.Entry.vcek.tableBytes.prefix(4) == [0x8d, 0x75, 0xda, 0x63])
        var bad = table
        bad[16] = 0xFF  // first entry's offset
        #expect(throws: AttestationError.self) { try SEVSNPCertificateTable.parse(bad) }
        #expect(throws: AttestationError.self) { try SEVSNPCertificateTable.parse(Array(table.prefix(30))) }
    }

    @Test
    func collectedEvidenceReachesTheVerifier() throws {
        // A real report and chain, with the report data the provider asked for: the chain verifies,
        // and the signature (over the original report data) rightly does not.
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let c = snpCases[0]
        let chain = try c.chainBytes()
        let table = SEVSNPCertificateTable.build([(.vcek, try c.vekBytes()), (.ask, chain[0]), (.ark, chain[1])])
        let kernel = FakeTSMKernel(report: try c.reportBytes(), auxblob: table)
        let reportData = [UInt8](repeating: 0x5A, count: 64)
        let evidence = try ConfigFSTSMProvider(root: root, privilegeLevel: nil, kernel: kernel.handle)
            .collect(reportData: reportData)
        var expectations = matchingExpectations(for: try SEVSNPReport(bytes: evidence.report))
        expectations.reportData = reportData
        let result = SEVSNPVerifier().verify(evidence, expectations: expectations, now: TestVectors.date(c.at))
        #expect(result.check(named: "vek")?.passed == true)
        #expect(result.check(named: "report-data")?.passed == true)
        #expect(result.failedCheck?.name == "signature")
    }

    @Test func collectsATDXQuoteFromTheTDXProvider() throws {
        let root = try temporaryRoot()
        defer { try? FileManager.default.removeItem(at: root) }
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        let kernel = FakeTSMKernel(provider: "tdx_guest", report: quote, auxblob: [], reportDataOffset: 48 + 520)
        let reportData = (0..<64).map { UInt8($0) }
        let evidence = try ConfigFSTSMProvider(root: root, privilegeLevel: nil, kind: .tdx, kernel: kernel.handle)
            .collect(reportData: reportData)
        #expect(evidence.kind == .tdx && evidence.certificates.isEmpty)
        #expect(try TDXQuote(bytes: evidence.report).body.reportData == reportData)
        // A SEV-SNP guest's provider does not serve TDX, nor the other way round.
        let snpKernel = FakeTSMKernel(report: syntheticReport, auxblob: [])
        #expect(throws: AttestationError.self) {
            try ConfigFSTSMProvider(root: root, privilegeLevel: nil, kind: .tdx, kernel: snpKernel.handle)
                .collect(reportData: reportData)
        }
        #expect(throws: AttestationError.self) {
            try ConfigFSTSMProvider(root: root, privilegeLevel: nil, kernel: kernel.handle).collect(
                reportData: reportData)
        }
    }
}
