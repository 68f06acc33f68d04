import ArgumentParser
import BrokerClient
import Foundation
import Launcher
import Node
import StageRuntime
import Topology
import Workloads

/// `sealpipe bench hop`: one hop's full cost next to one seal plus one open, in the same run
/// (CPU time for both; the hop streamed, with its one-at-a-time latency alongside).
struct BenchHopCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hop",
        abstract: "Cost of one pipeline hop (seal, sign, send, receive, verify, open) vs one seal + open.")

    @Option(help: "Payload bytes per hop (1536 = one embedding; 66 KiB ≈ 46 tokens of hidden states).")
    var payload: Int = 1536

    @Option(help: "Hops to time.")
    var iterations: Int = 2000

    @Option(help: "Write the figures as JSON to this file.")
    var json: String?

    func run() throws {
        let result = try HopBenchmark.run(payloadBytes: payload, iterations: iterations)
        Output.line(
            String(
                format:
                    "payload %d B: seal+open %.1f µs CPU, hop %.1f µs CPU (ratio %.2f×); one hop at a time: %.1f µs wall",
                result.payloadBytes, result.sealOpenMicroseconds, result.hopMicroseconds, result.ratio,
                result.hopLatencyMicroseconds))
        Output.line(
            String(
                format:
                    "with receipts: hop %.1f µs CPU (+%.1f µs per job per stage); %d B per receipt, %d B per minilm job",
                result.hopWithReceiptsMicroseconds, result.hopWithReceiptsMicroseconds - result.hopMicroseconds,
                result.receiptBytes, result.receiptBytesPerJob))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result).write(to: URL(fileURLWithPath: json))
        }
    }
}
