import ArgumentParser
import Deploy
import Foundation
import Topology

/// `sealpipe render kubernetes|podman TOPOLOGY --image REF`: the deployment manifests for a
/// topology. All logic lives in `Deploy`; this reads the topology, writes the files and prints
/// what an operator must know (warnings, digests).
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Write deployment manifests for a topology (Kubernetes with Confidential Containers, or podman).",
        discussion: "See docs/deploy.md.",
        subcommands: [Kubernetes.self, Podman.self])

    struct Kubernetes: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Plain manifests (one multi-document YAML file and a kustomization.yaml).")

        @Argument(help: "The topology file (YAML).")
        var topology: String

        @Option(help: "The image by digest, REPOSITORY@sha256:HEX (Scripts/image.sh prints it).")
        var image: String

        @Option(help: "The namespace every object goes into.")
        var namespace: String = "sealpipe"

        @Option(
            name: .customLong("runtime-class"),
            help:
                "ROLE=CLASS: run a stage, gateway or kms under this class (e.g. shard-0=kata-qemu-nvidia-gpu-snp)."
        )
        var runtimeClasses: [String] = []

        @Option(help: "Where to write the files (created if missing).")
        var out: String = "deploy/kubernetes"

        func run() throws {
            let loaded = try TopologyCommand.load(topology)
            var overrides: [String: String] = [:]
            for entry in runtimeClasses {
                let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--runtime-class \(entry): expected ROLE=CLASS")
                }
                overrides[parts[0]] = parts[1]
            }
            let options = DeploymentOptions(
                image: try ImageReference(image), namespace: namespace, runtimeClasses: overrides)
            let rendering = try KubernetesRenderer(options: options).render(loaded)
            try RenderCommand.write(rendering, to: out)
            for (role, digest) in rendering.initDataDigests.sorted(by: { $0.key < $1.key }) {
                Output.line("[render] \(role): initdata sha256:\(digest) (HOST_DATA / MRCONFIGID)")
            }
        }
    }

    struct Podman: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pods for `podman kube play`: broker.yaml first, then pipeline.yaml, on a user-created network.")

        @Argument(help: "The topology file (YAML).")
        var topology: String

        @Option(help: "The image by digest, REPOSITORY@sha256:HEX (Scripts/image.sh prints it).")
        var image: String

        @Option(help: "Where to write the files; the pods' host volumes (state, weights) live under it too.")
        var out: String = "deploy/podman"

        @Option(help: "The host directory holding the simulated TEE's platform.key and platform.pub.")
        var platformDirectory: String = ".sealpipe"

        func run() throws {
            let loaded = try TopologyCommand.load(topology)
            let directory = URL(fileURLWithPath: out).standardizedFileURL.path
            let model = URL(fileURLWithPath: loaded.model.directory ?? ".").standardizedFileURL.path
            let platform = URL(fileURLWithPath: platformDirectory).standardizedFileURL.path
            let renderer = PodmanRenderer(
                options: DeploymentOptions(image: try ImageReference(image)), directory: directory,
                modelDirectory: model, platformDirectory: platform)
            try RenderCommand.write(try renderer.render(loaded), to: out)
        }
    }

    /// Writes every file, then prints what was written, the topology digest and every warning.
    static func write(_ rendering: Rendering, to directory: String) throws {
        let base = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        for file in rendering.files {
            try Data(file.contents.utf8).write(to: base.appendingPathComponent(file.name), options: .atomic)
            Output.line("[render] wrote \(base.appendingPathComponent(file.name).path)")
        }
        Output.line("[render] topology sha256:\(rendering.topology.digest) (the key broker refuses any other)")
        for warning in rendering.warnings {
            FileHandle.standardError.write(Data("WARNING: \(warning)\n".utf8))
        }
    }
}
