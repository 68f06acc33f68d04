import Foundation
import Inference
import Observability
import Testing

extension EndToEndTests {
    /// Runs `sealpipe ARGS` with `environment` changed (nil removes a variable): OpenBLAS reads
    /// `OPENBLAS_CORETYPE` only when it loads, so a kernel can be forced only on a new process.
    static func runSealpipe(_ arguments: [String], environment changes: [String: String?]) throws
        -> (status: Int32, output: String, errors: String)
    {
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in changes { environment[name] = value }
        let child = Process()
        child.executableURL = LaunchedPipeline.binary
        child.arguments = arguments
        child.environment = environment
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sealpipe-out-\(UUID().uuidString)")
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("sealpipe-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: output)
            try? FileManager.default.removeItem(at: errors)
        }
        child.standardOutput = try FileHandle(forWritingTo: output)
        child.standardError = try FileHandle(forWritingTo: errors)
        try child.run()
        child.waitUntilExit()
        return (
            child.terminationStatus, try String(contentsOf: output, encoding: .utf8),
            try String(contentsOf: errors, encoding: .utf8)
        )
    }

    /// Forced onto OpenBLAS's generic kernel on a CPU with AVX2 or better, the engine says so at
    /// start-up and in `sealpipe bench model`, with the exact fix; the operator's pin is kept.
    @Test func theEngineWarnsLoudlyWhenForcedOntoTheGenericKernel() throws {
        let best = BLASKernelTier.best(for: CPUFeatures(decoding: .current()))
        guard best >= .avx2 else { return }  // nothing faster than the generic kernel to miss here
        let sentences = FileManager.default.temporaryDirectory.appendingPathComponent(
            "kernel-\(UUID().uuidString).jsonl")
        try Data(#"{"text": "a short sentence"}"#.utf8).write(to: sentences)
        defer { try? FileManager.default.removeItem(at: sentences) }
        let arguments = [
            "bench", "model", "--short", sentences.path, "--medium", sentences.path,
            "--model", LaunchedPipeline.modelDirectory.path, "--threads", "1", "--batches", "1",
            "--sentences", "1", "--repeats", "1", "--samples", "1",
        ]
        let forced = try Self.runSealpipe(arguments, environment: ["OPENBLAS_CORETYPE": "Prescott"])
        #expect(forced.status == 0, "\(forced.errors)")
        #expect(forced.output.contains("OpenBLAS core Prescott"))
        let fix = "this CPU supports \(best.coreType)"
        #expect(
            forced.output.contains(
                "WARNING: OpenBLAS runs its Prescott kernel because OPENBLAS_CORETYPE=Prescott is set"))
        #expect(forced.output.contains(fix))
        #expect(forced.errors.contains(#""kernel":"Prescott""#))
        #expect(forced.errors.contains(#""status":"pinned""#))
        #expect(forced.errors.contains("engine kernel slower than this CPU allows") && forced.errors.contains(fix))

        // With the environment as the test runs in (its pin, if any, kept), the child's verdict is
        // this process's: the same CPU, the same OpenBLAS, the same setting.
        let inherited = try Self.runSealpipe(arguments, environment: [:])
        #expect(inherited.status == 0, "\(inherited.errors)")
        #expect(inherited.output.contains("OpenBLAS core \(EngineKernel.current.kernel)"))
        #expect(inherited.output.contains("WARNING") == (EngineKernel.current.warning != nil))
        #expect(inherited.errors.contains(#""status":"\#(EngineKernel.current.status.rawValue)""#))
    }

    /// Every stage's metrics endpoint carries `sealpipe_engine_info`, naming the kernel and the
    /// CPU features; and `sealpipe bench attest` measures attestation and key release against the
    /// launched broker, as 4 nodes at once.
    @Test func stagesExportTheirKernelAndNodesAttestConcurrently() throws {
        let pipeline = try LaunchedPipeline(topology: "echo.yaml")
        // Topologies/echo.yaml: metrics from 9430, the broker, the gateway, then the four stages.
        for port in 9432...9435 {
            let metrics = try HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/metrics")
            let info = metrics.split(separator: "\n").first { $0.hasPrefix("sealpipe_engine_info{") }
            let line = try #require(info, "port \(port)")
            #expect(line.contains(#"cpu_features=""#) && line.hasSuffix(" 1"), "\(line)")
            #expect(line.contains(#"kernel=""#) && line.contains(#"status=""#))
        }
        let gateway = try HTTPGet.fetch(host: "127.0.0.1", port: 9431, path: "/metrics")
        #expect(!gateway.contains("sealpipe_engine_info"), "the gateway runs no engine")

        let json = pipeline.workingDirectory.appendingPathComponent("attest.json")
        let bench = try pipeline.run([
            "bench", "attest", "--topology", "Topologies/echo.yaml", "--nodes", "4", "--rounds", "2", "--json",
            json.path,
        ])
        #expect(bench.status == 0, "\(bench.errors)")
        #expect(bench.output.contains("4 nodes × 2 rounds"))
        let figures = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any])
        #expect(figures["attestations"] as? Int == 8)
        let p50 = try #require(figures["attestationP50Milliseconds"] as? Double)
        let release = try #require(figures["keyReleaseP50Milliseconds"] as? Double)
        #expect(p50 > 0 && release > 0 && release <= (figures["attestationP99Milliseconds"] as? Double ?? 0))
    }
}
