import Topology

/// One process kind of the pipeline as a container: what it runs, what it mounts, how big it is.
/// Shared by the Kubernetes and podman renderers so both start exactly the same commands.
struct ServicePlan {
    enum Role: Equatable {
        case keyBroker
        case gateway
        case stage(StageSpec)
    }

    let role: Role
    /// `kms`, `gateway` or the stage's name: the component label and the policy's role.
    let component: String
    var arguments: [String]
    /// TCP ports the container listens on, by name, besides metrics.
    let ports: [(name: String, port: Int)]
    let cpu: Int
    let memoryMiB: Int
    /// Whether it reads the simulated TEE's platform key (public half for the broker).
    let usesPlatformKey: Bool

    static let executable = "/usr/bin/sealpipe"

    /// The longest a drain may take (the longest job deadline), plus ten seconds to exit.
    static func gracePeriodSeconds(_ topology: Topology) -> Int {
        Int(topology.gateway.maxDeadline.components.seconds) + 10
    }

    /// The full argument vector, as the agent policy pins it.
    var command: [String] { [Self.executable] + arguments }

    /// Per replica memory: the model's share of each kind plus headroom (confidential VMs are
    /// sized from limits, so requests equal limits).
    static func memoryMiB(for kind: StageKind) -> Int {
        switch kind {
        case .encoder: 1024
        case .tokenizer, .pooling: 512
        case .echo: 256
        }
    }

    static func plans(
        for topology: Topology, deployed: DeploymentTopology, replicaFromHostname: Bool, simulatedRoles: Set<String>
    ) throws(DeployError) -> [ServicePlan] {
        let brokerPort = try DeploymentTopology.tcpPort(topology.keyBroker.endpoint, place: "kms.endpoint")
        let front = try DeploymentTopology.tcpPort(topology.gateway.front, place: "gateway.front")
        let backend = try DeploymentTopology.tcpPort(topology.gateway.backend, place: "gateway.backend")
        let topologyPath = DeploymentTopology.Paths.topology
        var plans = [
            ServicePlan(
                role: .keyBroker, component: "kms",
                arguments: [
                    "kms", "--topology", topologyPath, "--prepare", "--expect-topology-digest", deployed.digest,
                ] + (topology.model.directory == nil ? [] : ["--model-source", DeploymentTopology.Paths.modelSource]),
                ports: [("kms", brokerPort)], cpu: 1, memoryMiB: 1024, usesPlatformKey: !simulatedRoles.isEmpty),
            ServicePlan(
                role: .gateway, component: "gateway",
                arguments: [
                    "gateway", "--topology", topologyPath, "--broker-key", DeploymentTopology.Paths.brokerIdentity,
                ],
                ports: [("front", front), ("backend", backend)], cpu: 1, memoryMiB: 512, usesPlatformKey: false),
        ]
        for stage in topology.stages {
            var arguments = ["node", "--topology", topologyPath, "--role", stage.name]
            if replicaFromHostname { arguments.append("--replica-from-hostname") }
            arguments += ["--metrics-port", String(DeploymentTopology.metricsPort)]
            arguments += ["--platform-key", DeploymentTopology.Paths.platform + "/platform.key"]
            arguments += ["--broker-key", DeploymentTopology.Paths.brokerIdentity]
            if stage.kind == .encoder {
                arguments += ["--weights", DeploymentTopology.Paths.weights + "/\(stage.name).sealed"]
            }
            plans.append(
                ServicePlan(
                    role: .stage(stage), component: stage.name, arguments: arguments, ports: [], cpu: stage.threads,
                    memoryMiB: memoryMiB(for: stage.kind), usesPlatformKey: simulatedRoles.contains(stage.name)))
        }
        return plans
    }

    /// The container, with every hardening the pods need; `extraArguments` follow the plan's.
    func container(image: ImageReference, mounts: [ManifestValue], extraArguments: [String] = []) -> ManifestValue {
        let metrics: ManifestValue = ["name": "metrics", "containerPort": .integer(DeploymentTopology.metricsPort)]
        let ports = self.ports.map { port -> ManifestValue in
            ["name": .string(port.name), "containerPort": .integer(port.port)]
        }
        func probe(period: Int, failures: Int) -> ManifestValue {
            [
                "httpGet": ["path": "/status", "port": "metrics"], "periodSeconds": .integer(period),
                "failureThreshold": .integer(failures),
            ]
        }
        let resources: ManifestValue = ["cpu": .string(String(cpu)), "memory": .string("\(memoryMiB)Mi")]
        return [
            "name": .string(component),
            "image": .string(image.description),
            "imagePullPolicy": "IfNotPresent",
            "command": [.string(Self.executable)],
            "args": .list((arguments + extraArguments).map { .string($0) }),
            "ports": .list(ports + [metrics]),
            "resources": ["requests": resources, "limits": resources],
            // Sealing the weights before the broker serves, or attesting, can take a while.
            "startupProbe": probe(period: 5, failures: 60),
            "readinessProbe": probe(period: 5, failures: 2),
            "livenessProbe": probe(period: 10, failures: 6),
            "securityContext": [
                "allowPrivilegeEscalation": false,
                "readOnlyRootFilesystem": true,
                "runAsNonRoot": true,
                "capabilities": ["drop": ["ALL"]],
            ],
            "volumeMounts": .list(mounts),
        ]
    }

    /// The pod-level security every pod gets.
    static let podSecurityContext: ManifestValue = [
        "runAsNonRoot": true,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "fsGroup": 65532,
        "seccompProfile": ["type": "RuntimeDefault"],
    ]

    static func mount(_ name: String, at path: String, subPath: String? = nil, readOnly: Bool = true) -> ManifestValue {
        var members: [(key: String, value: ManifestValue)] = [("name", .string(name)), ("mountPath", .string(path))]
        if let subPath { members.append(("subPath", .string(subPath))) }
        members.append(("readOnly", .bool(readOnly)))
        return .map(members)
    }
}
