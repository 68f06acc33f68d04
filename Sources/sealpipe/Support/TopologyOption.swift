import ArgumentParser
import BrokerClient
import Foundation
import Launcher
import Node
import StageRuntime
import Topology
import Workloads

/// `--topology FILE`, shared by every command that reads one; loading prints every problem.
struct TopologyOption: ParsableArguments {
    @Option(name: .long, help: "The topology file (YAML).")
    var topology: String = "Topologies/minilm.yaml"

    func load() throws -> Topology {
        try TopologyCommand.load(topology)
    }
}
