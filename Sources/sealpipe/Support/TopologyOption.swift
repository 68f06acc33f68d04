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
