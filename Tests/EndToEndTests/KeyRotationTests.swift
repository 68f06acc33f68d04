import Foundation
import Observability
import Testing

extension EndToEndTests {
    /// Keys rotate every 3 s with a 2 s grace while a load test runs: every stage attests again
    /// at each epoch's end, forgets the old key after the grace, and the client fetches a fresh
    /// manifest when its epoch is refused — no job is lost.
    @Test func jobsKeepFlowingWhileKeysRotate() throws {
        let topology = """
            name: rotating
            model: {kind: echo}
            kms:
              endpoint: tcp://127.0.0.1:5590
              rotation: {epoch: 3s, grace: 2s}
            gateway:
              front: tcp://127.0.0.1:5595
              backend: tcp://127.0.0.1:5596
            metrics: {basePort: 9440}
            stages:
              - {name: preprocessor, kind: echo}
              - {name: shard-0, kind: echo}
              - {name: postprocessor, kind: echo}
            """
        let pipeline = try LaunchedPipeline(topology: "rotating.yaml", contents: topology)
        let report = pipeline.workingDirectory.appendingPathComponent("rotating.json").path
        let run = try pipeline.run([
            "loadtest", "--topology", "rotating.yaml", "--rate", "40", "--duration", "10", "--warm-up", "0", "--json",
            report,
            "--allow-simulated",
        ])
        #expect(run.status == 0)
        let figures = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let requests = try #require(figures["requests"] as? Int)
        #expect(requests >= 350)
        #expect(figures["results"] as? Int == requests)
        #expect(figures["errors"] as? Int == 0)
        // 10 s at epochs of 3 s: the client's first manifest goes stale after 5 s at the latest.
        #expect((figures["manifest_refreshes"] as? Int ?? 0) >= 1)

        // Every stage moved on by at least two epochs and holds at most the current one and, in
        // its grace period, the one before.
        for port in 9442...9444 {
            let status = try #require(
                try JSONSerialization.jsonObject(with: Data(HTTPStatus.fetch(port: port).utf8)) as? [String: Any])
            let epochs = try #require(status["epochs"] as? [Int])
            #expect((epochs.max() ?? 0) >= 3, "stage on port \(port) holds epochs \(epochs)")
            #expect(epochs.count <= 2 && (epochs.count == 1 || epochs.max()! - epochs.min()! == 1))
        }
        // Each stage attested again at every rotation, and its metrics say so.
        let metrics = try HTTPGet.fetch(host: "127.0.0.1", port: 9442, path: "/metrics")
        let attestations = metrics.split(separator: "\n").first { $0.hasPrefix("sealpipe_stage_attestations_total{") }
        #expect(attestations.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 3 } == true)

        // The gateway refused only the jobs the client then resent.
        let gateway = try #require(
            try JSONSerialization.jsonObject(with: Data(HTTPStatus.fetch(port: 9441).utf8)) as? [String: Any])
        let errors = gateway["errors"] as? [String: Int] ?? [:]
        #expect(errors.keys.allSatisfy { $0 == "unknown_epoch" })
        #expect(errors["unknown_epoch", default: 0] == figures["resent"] as? Int)
        #expect(pipeline.stop() == 0)
    }
}
