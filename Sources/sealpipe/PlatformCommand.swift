import ArgumentParser
import Attestation
import Foundation
import Sodium

/// `sealpipe platform`: the simulated TEE's platform key.
struct PlatformCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "platform", abstract: "Manage the simulated TEE's platform key.", subcommands: [Init.self])

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a platform key: DIR/platform.key (0600) and DIR/platform.pub.",
            discussion: """
                The key broker trusts platform.pub (list it among its trusted platform keys); nodes sign
                simulated evidence with platform.key. Whoever holds platform.key can forge evidence:
                keep it on the nodes' host only. An existing key is never overwritten.
                """)

        @Option(help: "Directory to write platform.key and platform.pub into (created if needed).")
        var out: String

        func run() throws {
            let directory = URL(fileURLWithPath: out)
            let key: PlatformKey
            do {
                key = try PlatformKey.create(in: directory)
            } catch {
                FileHandle.standardError.write(Data("sealpipe: platform init: \(error)\n".utf8))
                throw ExitCode(1)
            }
            print("wrote \(directory.appendingPathComponent(PlatformKey.secretFileName).path) (mode 0600)")
            print("wrote \(directory.appendingPathComponent(PlatformKey.publicFileName).path)")
            print("platform public key: \(Hex.encode(key.publicKey.bytes))")
        }
    }
}
