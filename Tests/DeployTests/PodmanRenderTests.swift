import Deploy
import Foundation
import Testing
import Topology

/// The podman files: one pod per service named for DNS on a podman network, only the front and
/// the broker published, the broker's files apart from the pipeline's.
@Suite("Podman rendering")
struct PodmanRenderTests {
    static func render(_ file: String) throws -> Rendering {
        try PodmanRenderer(
            options: DeploymentOptions(image: DeployFixture.image),
            directory: "/srv/sealpipe/deploy", modelDirectory: "/srv/models/minilm", platformDirectory: "/srv/platform"
        ).render(try DeployFixture.topology(file))
    }

    @Test("every shipped topology renders one pod per service, by name")
    func pods() throws {
        for (name, topology) in try DeployFixture.shippedTopologies() {
            let rendering = try Self.render(name)
            let names = rendering.objects.compactMap { $0.at("metadata.name")?.stringValue }
            var expected = ["\(topology.name)-kms", "\(topology.name)-gateway"]
            for stage in topology.stages {
                expected += (0..<stage.replicas).map { "\(topology.name)-\(stage.name)-\($0)" }
            }
            #expect(names == expected, "\(name)")
            #expect(rendering.files.map(\.name) == ["topology.yaml", "broker.yaml", "pipeline.yaml"])
            #expect(rendering.topology.topology.keyBrokerEndpoint.description.hasPrefix("tcp://\(topology.name)-kms:"))
            for pod in rendering.objects {
                let container = try #require(pod.at("spec.containers.0"))
                #expect(container["image"]?.stringValue == DeployFixture.image.description)
                #expect(container.at("securityContext.readOnlyRootFilesystem") == true)
                #expect(container.at("resources.requests") == container.at("resources.limits"))
                #expect(container["livenessProbe"] == nil, "podman would run probes with curl, which the image lacks")
                let podName = pod.at("metadata.name")?.stringValue ?? ""
                let emptyDirs = pod.at("spec.volumes")?.listValue?.filter { $0["emptyDir"] != nil } ?? []
                #expect(emptyDirs.map { $0["name"] } == [.string("\(podName)-tmp")], "one scratch volume per pod")
                let ports = container["ports"]?.listValue ?? []
                #expect(ports.allSatisfy { $0["hostPort"] == $0["containerPort"] }, "podman publishes every port")
                let published = ports.compactMap { $0["name"]?.stringValue }
                switch pod.at("metadata.labels")?["app.kubernetes.io/component"]?.stringValue {
                case "kms": #expect(published == ["kms"])
                case "gateway": #expect(published == ["front"])
                default: #expect(published.isEmpty)
                }
            }
            let stagePods = rendering.objects.filter { pod in
                topology.stageRoles.contains(
                    pod.at("metadata.labels")?["app.kubernetes.io/component"]?.stringValue ?? "")
            }
            for pod in stagePods {
                let args = pod.at("spec.containers.0.args")?.stringListValue ?? []
                let podName = pod.at("metadata.name")?.stringValue ?? ""
                #expect(args.suffix(2) == ["--replica", String(podName.split(separator: "-").last ?? "")])
                // A stage mounts its own sealed shard and never the model directory with weights.
                let paths = pod.at("spec.volumes")?.listValue?.compactMap { $0.at("hostPath.path")?.stringValue } ?? []
                #expect(!paths.contains("/srv/models/minilm"), "\(podName)")
                #expect(paths.filter { $0.hasSuffix(".sealed") }.count <= 1)
            }
        }
    }

    @Test("relative host paths are refused")
    func relativePaths() throws {
        #expect(throws: DeployError.self) {
            try PodmanRenderer(
                options: DeploymentOptions(image: DeployFixture.image), directory: "deploy",
                modelDirectory: "/m", platformDirectory: "/p"
            ).render(try DeployFixture.topology("echo.yaml"))
        }
    }
}
