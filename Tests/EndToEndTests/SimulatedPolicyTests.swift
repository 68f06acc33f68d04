import BrokerClient
import Foundation
import SealpipeClient
import Sodium
import Testing
import Trust
import ZeroMQ

extension EndToEndTests {
    /// Every shipped topology runs on the simulated TEE. Both clients (and the client library)
    /// refuse it unless told `--allow-simulated`, naming the roles; the launcher and `status`
    /// say SIMULATED.
    @Test func bothClientsRefuseASimulatedPipelineUnlessAllowed() throws {
        let pipeline = try LaunchedPipeline(topology: "echo.yaml")
        let roles = "postprocessor, preprocessor, shard-0, shard-1"
        #expect(pipeline.text.contains("[launch] SIMULATED: \(roles) accept simulated evidence"))
        #expect(pipeline.text.contains("[launch] evidence shard-0: simulated (debug refused, 1 measurement)"))
        // Four and eight bytes: the echo workload returns them, which both clients read as floats.
        let input = Data("{\"text\": \"abcd\"}\n{\"text\": \"12345678\"}\n".utf8)
        let endpoints = (front: "tcp://127.0.0.1:5585", keyBroker: "tcp://127.0.0.1:5580")

        let refused = try pipeline.runBothClients(
            topology: "echo.yaml", stateDirectory: "echo", input: input, allowSimulated: false,
            front: endpoints.front, keyBroker: endpoints.keyBroker)
        #expect(refused.swift.status == 2)
        #expect(refused.swift.output.isEmpty, "nothing is sent, so nothing comes back")
        #expect(refused.swift.errors.contains("simulated-evidence"))
        #expect(refused.swift.errors.contains("roles \(roles) accept SIMULATED evidence; pass --allow-simulated"))
        #expect(refused.python.status != 0)
        #expect(refused.python.output.isEmpty)
        #expect(refused.python.errors.contains("SIMULATED evidence for \(roles); pass --allow-simulated"))

        let allowed = try pipeline.runBothClients(
            topology: "echo.yaml", stateDirectory: "echo", input: input, allowSimulated: true,
            front: endpoints.front, keyBroker: endpoints.keyBroker)
        for (name, run) in [("sealpipe submit", allowed.swift), ("client.py", allowed.python)] {
            #expect(run.status == 0, "\(name)")
            #expect(run.output.split(separator: "\n").count == 2, "\(name): one answer per line")
            #expect(!run.output.contains("error"), "\(name)")
            #expect(run.errors.contains("WARNING: SIMULATED pipeline: \(roles) accept simulated evidence"), "\(name)")
        }

        // --verbose names the evidence protecting each role.
        let verbose = try pipeline.run(
            ["submit", "--topology", "Topologies/echo.yaml", "--allow-simulated", "--verbose", "--input", "-"],
            input: input)
        #expect(verbose.status == 0)
        #expect(verbose.errors.contains("✓ manifest simulated-evidence: SIMULATED evidence accepted for \(roles)"))
        #expect(verbose.errors.contains("  preprocessor: simulated (debug refused, 1 measurement)"))
        let script = LaunchedPipeline.repositoryRoot.appendingPathComponent("Scripts/client.py").path
        let identity = try pipeline.brokerIdentity(stateDirectory: "echo")
        let pythonVerbose = try pipeline.run(
            [
                "python3", script, "--kms-key", identity, "--front", endpoints.front, "--kms", endpoints.keyBroker,
                "--allow-simulated", "--verbose",
            ],
            executable: URL(fileURLWithPath: "/usr/bin/env"), input: input)
        #expect(pythonVerbose.status == 0)
        #expect(pythonVerbose.errors.contains("client.py: preprocessor: simulated (debug refused, 1 measurement)"))

        // The load generator shares the client's refusal.
        let loadtest = try pipeline.run(["loadtest", "--topology", "Topologies/echo.yaml", "--requests", "5"])
        #expect(loadtest.status == 2)
        #expect(loadtest.errors.contains("pass --allow-simulated"))

        // The client library: refused without the explicit option, accepted with it.
        let manifest = try KeyBrokerClient(endpoint: endpoints.keyBroker, context: ZMQContext()).fetchManifestWaiting()
        let pinned = try SigningPublicKey(bytes: Hex.decode(identity)!)
        #expect(manifest.rolesAcceptingSimulatedEvidence == roles.components(separatedBy: ", "))
        do throws(ManifestRejection) {
            try KeyBrokerClient.verify(manifest, pinnedBrokerKey: pinned)
            Issue.record("the library accepted a simulated pipeline without allowSimulated")
        } catch {
            #expect(error.refusedOnlyForSimulatedEvidence)
            #expect(error.description.contains("SIMULATED evidence for \(roles)"))
        }
        #expect(try KeyBrokerClient.verify(manifest, pinnedBrokerKey: pinned, allowSimulated: true).isValid)

        let status = try pipeline.run(["status", "--topology", "Topologies/echo.yaml"])
        #expect(status.status == 0)
        #expect(status.output.contains("SIMULATED: \(roles) accept simulated evidence"))
        #expect(pipeline.stop() == 0)
    }
}
