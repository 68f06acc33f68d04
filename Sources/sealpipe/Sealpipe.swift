import ArgumentParser

/// `sealpipe`: confidential inference as a pipeline of attested services.
///
/// Thin on purpose: each subcommand parses its arguments and wires library services.
@main
struct Sealpipe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sealpipe",
        abstract: "Confidential inference: a pipeline of attested services over ZeroMQ, sealed end to end.",
        discussion: """
            Operators: `sealpipe launch Topologies/minilm.yaml` brings a pipeline up; `sealpipe status` watches it.
            Clients: `sealpipe submit --topology Topologies/minilm.yaml "a sentence" "another"`.
            """,
        version: "0.1.0",
        subcommands: [
            LaunchCommand.self,
            TopologyCommand.self,
            ModelCommand.self,
            GatewayCommand.self,
            StatusCommand.self,
            KMSCommand.self,
            LedgerCommand.self,
            NodeCommand.self,
            SubmitCommand.self,
            LoadtestCommand.self,
            EmbedCommand.self,
            BenchCommand.self,
            EvidenceCommand.self,
            PlatformCommand.self,
            RenderCommand.self,
        ]
    )
}
