import ArgumentParser
import BrokerClient
import Foundation
import KeyBroker
import Launcher
import Node
import StageRuntime
import Topology
import Workloads

/// `sealpipe model seal`: encrypt each worker shard's tensors under its own key.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Manage model weights.", subcommands: [Seal.self])

    struct Seal: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal each encoder shard's weights under a key registered with the key broker.",
            discussion: """
                Reads the model's safetensors, writes weights/ROLE.sealed beside the broker's state, and stores each
                shard's key in the broker's encrypted state (the broker releases it only to an attested worker of
                that shard). Shards already sealed are left alone unless --force.
                """)

        @OptionGroup var options: TopologyOption

        @Flag(help: "Seal again even where a sealed shard exists (the key is kept).")
        var force = false

        func run() throws {
            let topology = try options.load()
            let store = try KeyBrokerStore(
                path: topology.keyBroker.statePath, rootKeyPath: topology.keyBroker.rootKeyPath)
            let written = try ShardSealing.sealMissing(topology: topology, store: store, force: force) { print($0) }
            print(written.isEmpty ? "nothing to seal" : "sealed \(written.count) shard(s)")
        }
    }
}
