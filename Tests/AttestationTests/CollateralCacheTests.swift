import Foundation
import TestVectors
import Testing

@testable import Attestation

@Suite(.timeLimit(.minutes(1))) struct CollateralCacheTests {
    func temporaryCache() -> CollateralCache {
        CollateralCache(
            directory: FileManager.default.temporaryDirectory.appendingPathComponent("collateral-\(UUID().uuidString)"))
    }

    @Test("imported collateral is stored per FMSPC with its dates and verifies quotes offline")
    func importAndVerify() throws {
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.directory) }
        let collateral = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        let item = try cache.importTDX(collateral)
        #expect(item.file == "tdx-b0c06f000000.json")
        #expect(item.expires == TestVectors.date("2025-07-19T10:00:35Z"))
        #expect(try cache.items().map(\.fmspc) == ["b0c06f000000"])
        let stored = try cache.tdxCollateral()
        #expect(stored == [collateral])
        let quote = try TestVectors.bytes("tdx/dcap-qvl/tdx_quote")
        let result = TDXVerifier(collateral: stored).verify(
            Evidence(kind: .tdx, report: quote), expectations: try TDXVerifierTests.matching(quote, policy: nil),
            now: TDXVerifierTests.dcapTime)
        #expect(result.passed, "\(result.renderedText())")
    }

    @Test("collateral with a broken signature is refused at import, and a corrupt cache file is an error")
    func refusals() throws {
        let cache = temporaryCache()
        defer { try? FileManager.default.removeItem(at: cache.directory) }
        var collateral = try TDXCollateral(json: try TestVectors.bytes("tdx/dcap-qvl/tdx_quote_collateral.json"))
        collateral.tcbInfoSignature[0] ^= 1
        #expect(throws: AttestationError.self) { try cache.importTDX(collateral) }
        #expect(try cache.items().isEmpty)
        try FileManager.default.createDirectory(at: cache.directory, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: cache.directory.appendingPathComponent("tdx-000000000000.json"))
        #expect(throws: AttestationError.self) { try cache.tdxCollateral() }
    }
}
