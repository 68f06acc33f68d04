import Deploy
import Foundation
import Topology

/// The repository's topologies and the options the tests render them with.
enum DeployFixture {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static let image = try! ImageReference("localhost/sealpipe:0.1.0@sha256:" + String(repeating: "ab", count: 32))

    /// Every file in `Topologies/`, by file name.
    static func shippedTopologies() throws -> [(name: String, topology: Topology)] {
        let directory = repository.appendingPathComponent("Topologies")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".yaml") }.sorted()
        return try names.map { ($0, try Topology.load(path: directory.appendingPathComponent($0).path)) }
    }

    static func topology(_ file: String) throws -> Topology {
        try Topology.load(path: repository.appendingPathComponent("Topologies/\(file)").path)
    }

    static func kubernetes(
        _ topology: Topology, runtimeClasses: [String: String] = [:], namespace: String = "sealpipe"
    ) throws -> Rendering {
        try KubernetesRenderer(
            options: DeploymentOptions(
                image: image, namespace: namespace, runtimeClasses: runtimeClasses)
        ).render(topology)
    }

    /// `minilm.yaml` with `evidence` (kinds, comma-separated) as every role's accepted kinds, and
    /// `shard0`'s kinds for shard-0 alone when given.
    static func minilm(evidence: String, shard0: String? = nil) throws -> Topology {
        var text = try String(contentsOf: repository.appendingPathComponent("Topologies/minilm.yaml"), encoding: .utf8)
        let policy = "default: {evidence: {simulated: {measurements: [reference-build], allowDebug: false}}}"
        precondition(text.contains(policy), "Topologies/minilm.yaml's policy line changed; update this fixture")
        var replacement = "default: {evidence: \(evidenceMap(evidence))}"
        if let shard0 { replacement += "\n    roles:\n      shard-0: {evidence: \(evidenceMap(shard0))}" }
        text = text.replacingOccurrences(of: policy, with: replacement)
        return try Topology(yaml: text)
    }

    /// `{KIND: {measurements: [...]}, …}`: the simulated TEE on the reference build, hardware kinds
    /// on a made-up launch measurement (rendering never verifies one).
    static func evidenceMap(_ kinds: String) -> String {
        let entries = kinds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.map { kind in
            kind == "simulated"
                ? "simulated: {measurements: [reference-build]}"
                : "\(kind): {measurements: [\(String(repeating: "ab", count: 48))]}"
        }
        return "{" + entries.joined(separator: ", ") + "}"
    }

    /// Every pod template (StatefulSets and Deployments) with its owner's name.
    static func podTemplates(_ rendering: Rendering) -> [(owner: String, pod: ManifestValue)] {
        (rendering.objects(ofKind: "StatefulSet") + rendering.objects(ofKind: "Deployment")).compactMap { object in
            guard let name = object.at("metadata.name")?.stringValue, let pod = object.at("spec.template") else {
                return nil
            }
            return (name, pod)
        }
    }

    /// Runs a program to its end; returns its exit status and everything it printed.
    static func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(input) }
        try stdin.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
