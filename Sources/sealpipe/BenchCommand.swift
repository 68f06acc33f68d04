import ArgumentParser

/// `sealpipe bench`: measurements of parts of the system in isolation.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks: the model alone, the crypto of one hop, attestation and key release.",
        subcommands: [BenchModelCommand.self, BenchHopCommand.self, BenchAttestCommand.self])
}
