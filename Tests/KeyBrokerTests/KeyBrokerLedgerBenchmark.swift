import Foundation
import Testing
import Trust

@testable import KeyBroker

/// CPU cost of the log at 1k, 100k and 1M entries (a tree head after every entry, as the broker
/// writes them). CPU time, not wall time, because the machine is shared; run on purpose with
///     SEALPIPE_LEDGER_BENCH=1 swift test --skip-build --filter KeyBrokerLedgerBenchmark
/// and it prints the rows for docs/benchmarks.md.
@Suite("Key broker: ledger benchmark")
struct KeyBrokerLedgerBenchmark {
    static var requested: Bool { ProcessInfo.processInfo.environment["SEALPIPE_LEDGER_BENCH"] != nil }

    /// User + system CPU seconds of this process (`RUSAGE_SELF`) or its reaped children.
    static func cpuSeconds(_ who: Int32) -> Double {
        var usage = rusage()
        getrusage(who == 0 ? RUSAGE_SELF.rawValue : RUSAGE_CHILDREN.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    @Test(
        "append, proofs and ledger verify at 1k, 100k and 1M entries", .enabled(if: requested),
        .timeLimit(.minutes(60)))
    func benchmark() throws {
        let f = try BrokerFixture()
        let store = try f.openStore()
        let now = UInt64(f.clock.now.timeIntervalSince1970 * 1000)
        var rows: [String] = []
        for size in [1_000, 100_000, 1_000_000] {
            let appends = 200
            try store.appendInBulk(count: size - appends - Int(try store.logSize()), now: now, headAfterEach: true) {
                KeyBrokerLogScaleTests.entry($0)
            }
            var start = Self.cpuSeconds(0)
            for i in 0..<appends { try store.append(KeyBrokerLogScaleTests.entry(i), now: now) }
            let append = (Self.cpuSeconds(0) - start) / Double(appends)
            #expect(try store.logSize() == UInt64(size))

            let proofs = 1_000
            start = Self.cpuSeconds(0)
            for i in 0..<proofs {
                _ = try store.inclusionProof(index: UInt64((i * 7_919) % size), treeSize: UInt64(size))
            }
            let inclusion = (Self.cpuSeconds(0) - start) / Double(proofs)
            start = Self.cpuSeconds(0)
            for i in 0..<proofs {
                _ = try store.consistencyProof(from: UInt64(1 + (i * 7_919) % (size - 1)), to: UInt64(size))
            }
            let consistency = (Self.cpuSeconds(0) - start) / Double(proofs)

            let verify = Process()
            verify.executableURL = KeyBrokerProcessTests.binary
            verify.arguments = ["ledger", "verify", "--db", f.configuration.statePath]
            verify.standardOutput = FileHandle.nullDevice
            let childStart = Self.cpuSeconds(1)
            let wallStart = ContinuousClock.now
            try verify.run()
            verify.waitUntilExit()
            let wall = ContinuousClock.now - wallStart
            #expect(verify.terminationStatus == 0)
            let verifyCPU = Self.cpuSeconds(1) - childStart
            rows.append(
                String(
                    format: "| %@ | %.3f ms | %.1f µs | %.1f µs | %.1f s (wall %.1f s) |", "\(size)", append * 1000,
                    inclusion * 1e6, consistency * 1e6, verifyCPU,
                    Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18))
        }
        print("| entries | append (CPU) | inclusion proof (CPU) | consistency proof (CPU) | ledger verify (CPU) |")
        print("|---|---|---|---|---|")
        for row in rows { print(row) }
    }
}
