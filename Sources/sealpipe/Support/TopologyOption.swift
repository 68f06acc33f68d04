import ArgumentParser
import Foundation
import Topology
import StageRuntime
import Workloads
import Node
import Launcher
import BrokerClient

/// `--topology FILE`, shared by every command that reads one; loading prints every problem.
struct TopologyOption: ParsableArguments {
    @Option(name: .long, help: "The topology file (YAML).")
    var topology: String = "Topologies/minilm.yaml"

    func load() throws -> Topology {
        try TopologyCommand.load(topology)
    }
}

/// Runs blocking work on a thread of its own (never the Swift concurrency pool) and waits.
func runBlocking<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}
