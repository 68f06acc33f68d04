import ArgumentParser
import Foundation

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
            ReceiptCommand.self,
            CollateralCommand.self,
            PlatformCommand.self,
            RenderCommand.self,
        ]
    )

    /// Runs the command; a usage error (unknown option, missing argument, bad value) exits 2,
    /// as `sealpipe evidence verify` documents, rather than ArgumentParser's 64.
    static func main() async {
        do {
            var command = try parseAsRoot()
            // Sendable facts only, so the command itself stays free to be sent to its run().
            let engine = EngineStartup.startUpChoice(for: command)
            if engine.runsEngine { EngineStartup.report(logFormat: engine.logFormat) }
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }
}
