import Foundation
import Testing

@testable import Topology

/// Every file shipped in `Topologies/` parses and validates, and the shipped files can run
/// side by side.
@Suite("Shipped topologies")
struct TopologyFilesTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Topologies")

    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }

    static func load(_ name: String) throws -> Topology {
        try Topology.load(path: directory.appendingPathComponent(name).path)
    }

    @Test("the expected files are shipped")
    func shipped() {
        #expect(
            Set(Self.files).isSuperset(of: [
                "minilm.yaml", "minilm-replicas.yaml", "minilm-multihost.yaml", "echo.yaml",
            ]))
    }

    @Test("every file validates", arguments: files)
    func validates(_ name: String) {
        do {
            let topology = try Self.load(name)
            #expect(topology.name + ".yaml" == name, "a file's name and its topology's name agree")
        } catch {
            Issue.record("\(name):\n\(error)")
        }
    }

    @Test("no two shipped files bind the same port on one address, so any two run side by side")
    func distinctPorts() throws {
        var owners: [String: String] = [:]
        for name in Self.files {
            let topology = try Self.load(name)
            var ports: [(String, Int)] = []
            for endpoint in [topology.keyBrokerEndpoint, topology.frontEndpoint, topology.backendEndpoint] {
                if case .tcp(let host, let port) = endpoint { ports.append((host, port)) }
            }
            ports += topology.services.map { ($0.metrics.host, $0.metrics.port) }
            for (host, port) in ports {
                let slot = "\(host):\(port)"
                if let owner = owners[slot], owner != name {
                    Issue.record("\(slot) is used by both \(owner) and \(name)")
                }
                owners[slot] = name
            }
        }
        #expect(owners.count > 20)
    }

    @Test("the default topology is tokenizer, two shards, pooling")
    func defaultShape() throws {
        let topology = try Self.load("minilm.yaml")
        #expect(topology.roles == ["gateway", "preprocessor", "shard-0", "shard-1", "postprocessor"])
        #expect(topology.stages.map(\.kind) == [.tokenizer, .encoder, .encoder, .pooling])
        #expect(topology.stages.map(\.layers) == [nil, 0..<3, 3..<6, nil])
        #expect(topology.model == ModelSpec(kind: .minilm, directory: "models/all-MiniLM-L6-v2", layers: 6))
        #expect(topology.frontEndpoint.description == "tcp://127.0.0.1:5555")
        #expect(topology.keyBrokerEndpoint.description == "tcp://127.0.0.1:5550")
    }

    @Test("the replicas topology runs two replicas per shard")
    func replicas() throws {
        let topology = try Self.load("minilm-replicas.yaml")
        #expect(topology.stages.filter { $0.kind == .encoder }.map(\.replicas) == [2, 2])
        #expect(
            topology.services.map(\.name) == [
                "kms", "gateway", "preprocessor.0", "shard-0.0", "shard-0.1", "shard-1.0", "shard-1.1",
                "postprocessor.0",
            ])
        #expect(topology.services.map(\.metrics.port) == Array(9410...9417))
    }

    @Test("the multi-host topology places each shard on its own host")
    func multihost() throws {
        let topology = try Self.load("minilm-multihost.yaml")
        #expect(topology.hosts.map(\.address) == ["10.200.0.1", "10.200.0.2", "10.200.0.3"])
        #expect(topology.services(onHost: "gw").map(\.name) == ["kms", "gateway", "preprocessor.0", "postprocessor.0"])
        #expect(topology.services(onHost: "ws0").map(\.name) == ["shard-0.0"])
        #expect(topology.services(onHost: "ws1").map(\.name) == ["shard-1.0"])
        #expect(topology.services(onHost: "nowhere").isEmpty)
        // The front binds every interface; clients connect to the gateway host's address.
        #expect(topology.gateway.front == .tcp(host: "*", port: 5575))
        #expect(topology.frontEndpoint == .tcp(host: "10.200.0.1", port: 5575))
        #expect(topology.service(named: "shard-1.0")?.metrics.description == "10.200.0.3:9424")
    }

    @Test("the echo topology has the real pipeline's role names")
    func echo() throws {
        let echo = try Self.load("echo.yaml")
        let minilm = try Self.load("minilm.yaml")
        #expect(echo.roles == minilm.roles)
        #expect(echo.stages.allSatisfy { $0.kind == .echo && $0.layers == nil })
        #expect(echo.model == ModelSpec(kind: .echo, directory: nil, layers: 0))
    }
}

/// The complete example in docs/topology.md is a valid topology, so the reference cannot drift
/// from the code unnoticed.
@Test("the example in docs/topology.md validates")
func documentedExampleValidates() throws {
    let docs = TopologyFilesTests.directory.deletingLastPathComponent().appendingPathComponent("docs/topology.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    let afterHeading = try #require(text.components(separatedBy: "## A complete example").last)
    let block = try #require(afterHeading.components(separatedBy: "```yaml\n").dropFirst().first)
    let yaml = try #require(block.components(separatedBy: "```").first)
    let topology = try Topology(yaml: yaml)
    #expect(topology.releasePolicy.roles["shard-0"]?.evidence["sev-snp"]?.minimumTCB == 1234)
    #expect(topology.releasePolicy.roles["shard-1"]?.allowedKinds == ["simulated"])
    #expect(topology.services.count == 8)
}
