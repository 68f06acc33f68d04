import Foundation
import Testing

extension EndToEndTests {
    /// `Topologies/minilm-multihost.yaml` on three hosts (network namespaces joined by a bridge):
    /// each host's launcher starts only its share, the workers attest to the broker on another
    /// host, and a client outside all three gets the model's embeddings through the gateway.
    @Test(.enabled(if: NetworkNamespaces.available, NetworkNamespaces.unavailableReason))
    func aPipelineOverThreeHostsServesJobsAcrossTheNetwork() throws {
        let network = try NetworkNamespaces(
            hosts: [("gw", "10.200.0.1"), ("ws0", "10.200.0.2"), ("ws1", "10.200.0.3")], bridgeAddress: "10.200.0.254")
        defer { network.tearDown() }
        let topology = "minilm-multihost.yaml"
        // Each worker host makes its own platform key before the broker's host starts, and hands over
        // only its public half (here the hosts share one directory, so it is already in place).
        let gateway = try LaunchedPipeline(topology: topology, host: "gw", namespace: network.namespace("gw")) {
            directory in
            for host in ["ws0", "ws1"] {
                let made = Process()
                made.executableURL = LaunchedPipeline.binary
                made.arguments = ["platform", "init", "--out", ".sealpipe/hosts/\(host)"]
                made.currentDirectoryURL = directory
                made.standardOutput = FileHandle.nullDevice
                try made.run()
                made.waitUntilExit()
                #expect(made.terminationStatus == 0)
            }
        }
        let worker0 = try LaunchedPipeline(
            topology: topology, host: "ws0", namespace: network.namespace("ws0"), sharing: gateway)
        let worker1 = try LaunchedPipeline(
            topology: topology, host: "ws1", namespace: network.namespace("ws1"), sharing: gateway)
        defer {
            worker1.stop()
            worker0.stop()
            gateway.stop()
        }
        #expect(gateway.text.contains("starting 4 service(s) of minilm-multihost on host gw"))
        // Three hosts, three different platform keys: none was copied between hosts.
        let keys = try ["gw", "ws0", "ws1"].map {
            try Data(contentsOf: gateway.workingDirectory.appendingPathComponent(".sealpipe/hosts/\($0)/platform.key"))
        }
        #expect(Set(keys).count == 3)
        #expect(worker0.text.contains("starting 1 service(s) of minilm-multihost on host ws0"))
        #expect(worker1.text.contains("starting 1 service(s) of minilm-multihost on host ws1"))

        // A client in this namespace, outside every host, reaches the gateway over the bridge.
        let cases = try ReferenceCases.load()
        let submitted = try gateway.run(
            ["submit", "--topology", "Topologies/\(topology)", "--input", "-", "--allow-simulated"],
            input: ReferenceCases.jsonLines(cases))
        #expect(submitted.status == 0)
        let embeddings = ReferenceCases.embeddings(fromJSONLines: submitted.output)
        try #require(embeddings.count == cases.count)
        for (index, item) in cases.enumerated() {
            let embedding = try #require(embeddings[index], "case \(item.name)")
            #expect(ReferenceCases.cosine(embedding, item.embedding) >= 0.9999, "case \(item.name)")
        }

        // Each shard ran on its own host, and saw every job.
        for (address, port, role) in [("10.200.0.2", 9423, "shard-0"), ("10.200.0.3", 9424, "shard-1")] {
            let status = try #require(
                try JSONSerialization.jsonObject(with: Data(HTTPStatus.fetch(host: address, port: port).utf8))
                    as? [String: Any])
            #expect(status["role"] as? String == role)
            #expect(status["processed"] as? Int == cases.count)
        }
        #expect(worker1.stop() == 0)
        #expect(worker0.stop() == 0)
        #expect(gateway.stop() == 0)
    }
}
