import ArgumentParser
import BrokerClient
import Foundation
import Launcher
import Node
import StageRuntime
import Topology
import Workloads

/// `sealpipe topology check|policy FILE`: validate a topology file and show what it describes,
/// before launching anything. All logic lives in `Pipeline`; this only loads and prints.
struct TopologyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "topology",
        abstract: "Validate a topology file and show what it describes.",
        subcommands: [Check.self, Policy.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a topology; print its services, endpoints, roles and policy, or every error.")

        @Argument(help: "The topology file (YAML), e.g. Topologies/minilm.yaml.")
        var file: String

        func run() throws {
            print(try TopologyCommand.load(file).summary)
        }
    }

    struct Policy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the key-release policy the key broker enforces for each role.")

        @Argument(help: "The topology file (YAML).")
        var file: String

        func run() throws {
            print(try TopologyCommand.load(file).policySummary)
        }
    }

    /// Loads the file, or prints every problem to standard error and exits with status 1.
    static func load(_ file: String) throws -> Topology {
        do {
            return try Topology.load(path: file)
        } catch {
            let count = error.issues.count
            var text = "\(file): \(count) problem\(count == 1 ? "" : "s")\n"
            for issue in error.issues { text += "  \(issue)\n" }
            FileHandle.standardError.write(Data(text.utf8))
            throw ExitCode.failure
        }
    }
}
