public import Topology

/// Renders a topology for `podman kube play` on one host: one pod per service (the broker, the
/// gateway, each stage replica), named so that peers find each other by name on a user-created
/// podman network, with the broker's and the front's ports published on the host.
///
/// Two files, played in order: `broker.yaml` (the broker seals the shards into the weights
/// directory), then `pipeline.yaml` (the gateway and the stages, which mount their sealed shard
/// read-only). State lives in host directories under the output directory, so nothing is lost
/// when pods are replaced. The same files can feed systemd Quadlet `.kube` units.
public struct PodmanRenderer: Sendable {
    public let options: DeploymentOptions
    /// The absolute directory the files are written to (host paths of the volumes are under it).
    public let directory: String
    /// The absolute host directory holding the model's files (read by the broker only).
    public let modelDirectory: String
    /// The absolute host directory holding the simulated TEE's `platform.key` and `platform.pub`.
    public let platformDirectory: String

    public static let brokerFile = "broker.yaml"
    public static let pipelineFile = "pipeline.yaml"
    public static let topologyFile = "topology.yaml"

    public init(options: DeploymentOptions, directory: String, modelDirectory: String, platformDirectory: String) {
        self.options = options
        self.directory = directory
        self.modelDirectory = modelDirectory
        self.platformDirectory = platformDirectory
    }

    /// The pod of each service: `<topology>-kms`, `<topology>-gateway`, `<topology>-<stage>-<replica>`.
    public static func podName(topology: String, component: String, replica: Int? = nil) -> String {
        replica.map { "\(topology)-\(component)-\($0)" } ?? "\(topology)-\(component)"
    }

    public func render(_ topology: Topology) throws(DeployError) -> Rendering {
        for (place, path) in [
            ("--out", directory), ("model directory", modelDirectory), ("platform", platformDirectory),
        ]
        where !path.hasPrefix("/") {
            throw DeployError(place, "\(path) must be an absolute path (podman mounts host paths)")
        }
        let name = topology.name
        let broker = Self.podName(topology: name, component: "kms")
        let gateway = Self.podName(topology: name, component: "gateway")
        let deployed = try DeploymentTopology(
            source: topology, brokerAddress: broker, gatewayAddress: gateway,
            header: """
                Rendered by `sealpipe render podman` topology \(topology.name). Do not edit: the key broker
                pins this file's SHA-256, and nodes started from another file get no keys.
                """)
        var warnings: [String] = []
        for stage in topology.stages where topology.releasePolicy.roles[stage.name]?.allowedKinds == ["simulated"] {
            warnings.append(
                "\(stage.name): simulated TEE on podman: this deployment is NOT confidential (the host's "
                    + "operator can read its data and weights)")
        }
        if topology.stages.contains(where: { topology.releasePolicy.roles[$0.name]?.allowedKinds != ["simulated"] }) {
            warnings.append(
                "podman runs no confidential VM: roles that demand sev-snp or tdx evidence get no keys here")
        }
        let plans = try ServicePlan.plans(
            for: topology, deployed: deployed, replicaFromHostname: false,
            simulatedRoles: Set(topology.stageRoles))
        var brokerPods: [ManifestValue] = []
        var pipelinePods: [ManifestValue] = []
        let hasModel = topology.model.directory != nil
        let grace = ServicePlan.gracePeriodSeconds(topology)
        // The broker's identity, which it wrote beside the shards before this file is played.
        let identityVolume = hostPath("identity", directory + "/weights/kms-identity.pub", type: "File")
        let identityMount = ServicePlan.mount("identity", at: DeploymentTopology.Paths.brokerIdentity)
        for plan in plans {
            switch plan.role {
            case .keyBroker:
                var volumes = [hostPath("state", directory + "/state", type: "DirectoryOrCreate")]
                var mounts = [ServicePlan.mount("state", at: DeploymentTopology.Paths.state, readOnly: false)]
                volumes.append(hostPath("weights", directory + "/weights", type: "DirectoryOrCreate"))
                mounts.append(ServicePlan.mount("weights", at: DeploymentTopology.Paths.weights, readOnly: false))
                if hasModel {
                    volumes.append(hostPath("model", modelDirectory, type: "Directory"))
                    mounts.append(ServicePlan.mount("model", at: DeploymentTopology.Paths.modelSource))
                }
                volumes.append(hostPath("platform", platformDirectory + "/platform.pub", type: "File"))
                mounts.append(ServicePlan.mount("platform", at: DeploymentTopology.Paths.platform + "/platform.pub"))
                brokerPods.append(pod(broker, plan: plan, grace: grace, volumes: volumes, mounts: mounts))
            case .gateway:
                pipelinePods.append(
                    pod(gateway, plan: plan, grace: grace, volumes: [identityVolume], mounts: [identityMount]))
            case .stage(let stage):
                var volumes: [ManifestValue] = [identityVolume]
                var mounts: [ManifestValue] = [identityMount]
                if hasModel {
                    volumes.append(hostPath("model", directory + "/weights/model", type: "Directory"))
                    mounts.append(ServicePlan.mount("model", at: DeploymentTopology.Paths.model))
                }
                if stage.kind == .encoder {
                    volumes.append(hostPath("sealed", directory + "/weights/\(stage.name).sealed", type: "File"))
                    mounts.append(
                        ServicePlan.mount("sealed", at: DeploymentTopology.Paths.weights + "/\(stage.name).sealed"))
                }
                volumes.append(hostPath("platform", platformDirectory + "/platform.key", type: "File"))
                mounts.append(ServicePlan.mount("platform", at: DeploymentTopology.Paths.platform + "/platform.key"))
                for replica in 0..<stage.replicas {
                    pipelinePods.append(
                        pod(
                            Self.podName(topology: name, component: stage.name, replica: replica), plan: plan,
                            grace: grace, volumes: volumes, mounts: mounts,
                            extraArguments: ["--replica", String(replica)]))
                }
            }
        }
        return Rendering(
            files: [
                RenderedFile(name: Self.topologyFile, contents: deployed.text),
                RenderedFile(name: Self.brokerFile, contents: brokerPods.map { "---\n" + $0.yaml }.joined()),
                RenderedFile(name: Self.pipelineFile, contents: pipelinePods.map { "---\n" + $0.yaml }.joined()),
            ], objects: brokerPods + pipelinePods, topology: deployed, warnings: warnings, initDataDigests: [:])
    }

    func hostPath(_ name: String, _ path: String, type: String) -> ManifestValue {
        ["name": .string(name), "hostPath": ["path": .string(path), "type": .string(type)]]
    }

    func pod(
        _ name: String, plan: ServicePlan, grace: Int, volumes: [ManifestValue],
        mounts: [ManifestValue], extraArguments: [String] = []
    ) -> ManifestValue {
        let topologyVolume = hostPath("topology", directory + "/" + Self.topologyFile, type: "File")
        let topologyMount = ServicePlan.mount("topology", at: DeploymentTopology.Paths.topology)
        // podman 4.3 turns an emptyDir into a named volume of the same name: one name per pod, or
        // every pod would share one /tmp.
        let scratchName = "\(name)-tmp"
        let scratch: ManifestValue = ["name": .string(scratchName), "emptyDir": [:]]
        var container = plan.container(
            image: options.image,
            mounts: [
                topologyMount, ServicePlan.mount(scratchName, at: DeploymentTopology.Paths.scratch, readOnly: false),
            ]
                + mounts,
            extraArguments: extraArguments)
        // podman 4.3 publishes every declared container port on the host, so only the broker's
        // port and the front are declared (with their host port). It runs probes as commands
        // inside the container (curl), which the image does not have, so they are left out.
        if case .map(var members) = container {
            members.removeAll { ["startupProbe", "readinessProbe", "livenessProbe"].contains($0.key) }
            let published = plan.ports.filter { port in
                plan.role == .gateway ? port.name == "front" : plan.role == .keyBroker
            }
            if let index = members.firstIndex(where: { $0.key == "ports" }) {
                if published.isEmpty {
                    members.remove(at: index)
                } else {
                    members[index].value = .list(
                        published.map { port -> ManifestValue in
                            [
                                "name": .string(port.name), "containerPort": .integer(port.port),
                                "hostPort": .integer(port.port),
                            ]
                        })
                }
            }
            container = .map(members)
        }
        return [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": [
                "name": .string(name),
                "labels": [
                    "app.kubernetes.io/name": "sealpipe", "app.kubernetes.io/component": .string(plan.component),
                ],
                // podman 4.3 refuses annotation values over 63 characters, so the topology digest
                // (64 hex digits) is not annotated here; the broker's arguments carry it.
                "annotations": ["sealpipe.dev/confidential": "false"],
            ],
            "spec": [
                "restartPolicy": "Always",
                "automountServiceAccountToken": false,
                "securityContext": ServicePlan.podSecurityContext,
                "terminationGracePeriodSeconds": .integer(grace),
                "containers": [container],
                "volumes": .list([topologyVolume, scratch] + volumes),
            ],
        ]
    }
}
