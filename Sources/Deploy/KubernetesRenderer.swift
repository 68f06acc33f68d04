public import Topology

/// Renders a topology as plain Kubernetes manifests for Confidential Containers: a StatefulSet
/// and headless Service per stage, the gateway's Deployment and Service, the key broker's
/// StatefulSet with its own volume, NetworkPolicies that allow exactly the topology's edges,
/// and the topology itself in a ConfigMap whose digest every pod's evidence binds.
///
/// Pure: topology and options in, objects and file texts out.
public struct KubernetesRenderer: Sendable {
    public let options: DeploymentOptions

    public init(options: DeploymentOptions) {
        self.options = options
    }

    /// The multi-document manifest file's name for `topology` (the kustomization lists it).
    public static func manifestFileName(for topology: Topology) -> String { "\(topology.name).yaml" }

    public func render(_ topology: Topology) throws(DeployError) -> Rendering {
        let build = KubernetesObjects(options: options, instance: topology.name)
        let namespace = options.namespace
        guard DeploymentOptions.isLabel(namespace) else {
            throw DeployError("--namespace", "\"\(namespace)\" is not a DNS label (a-z, 0-9, -, at most 63)")
        }
        let names = Names(topology: topology)
        try names.check()
        let deployed = try DeploymentTopology(
            source: topology, brokerAddress: "\(names.broker).\(namespace).svc.cluster.local",
            gatewayAddress: "\(names.gateway).\(namespace).svc.cluster.local",
            header: """
                Rendered by `sealpipe render kubernetes` topology \(topology.name). Do not edit: the key broker
                pins this file's SHA-256, and nodes started from another file get no keys.
                """)
        var warnings: [String] = []
        let classes = try build.runtimeClasses(topology, warnings: &warnings)
        let simulated = Set(topology.stageRoles.filter { (classes[$0] ?? nil) == nil })
        var plans = try ServicePlan.plans(
            for: topology, deployed: deployed, replicaFromHostname: true, simulatedRoles: simulated)
        // The broker learns each confidential stage pod's initdata digest, which HOST_DATA (SEV-SNP) or
        // MRCONFIGID (TDX) carries: a pod launched with any other configuration gets no keys.
        let brokerIndex = plans.firstIndex { if case .keyBroker = $0.role { true } else { false } }
        for plan in plans {
            guard case .stage = plan.role, (classes[plan.component] ?? nil) != nil, let brokerIndex else { continue }
            let initData = InitData(
                topologyDigest: deployed.digest, role: plan.component, image: options.image, commands: [plan.command])
            plans[brokerIndex].arguments += ["--host-data", "\(plan.component)=\(initData.digest)"]
        }

        var objects: [ManifestValue] = [build.namespaceObject(simulated: !simulated.isEmpty)]
        objects.append(
            build.object(
                "v1", "ConfigMap", name: names.topologyConfigMap, component: "topology",
                annotations: [("sealpipe.dev/topology-sha256", .string(deployed.digest))],
                body: [("data", ["topology.yaml": .string(deployed.text)])]))
        objects += build.volumeClaims(names: names)
        var initDataDigests: [String: String] = [:]
        for plan in plans {
            let runtimeClass = classes[plan.component] ?? nil
            var annotations: [(key: String, value: ManifestValue)] = [
                ("prometheus.io/scrape", "true"),
                ("prometheus.io/port", .string(String(DeploymentTopology.metricsPort))),
                ("prometheus.io/path", "/metrics"), ("sealpipe.dev/topology-sha256", .string(deployed.digest)),
            ]
            if runtimeClass != nil {
                let initData = InitData(
                    topologyDigest: deployed.digest, role: plan.component, image: options.image,
                    commands: [plan.command])
                annotations.append((InitData.annotation, .string(initData.annotationValue)))
                annotations.append(("sealpipe.dev/initdata-sha256", .string(initData.digest)))
                initDataDigests[plan.component] = initData.digest
            } else if case .stage = plan.role {
                annotations.append(("sealpipe.dev/confidential", "false"))
                annotations.append(
                    ("sealpipe.dev/evidence", "simulated TEE: software platform key, no hardware isolation"))
            }
            let pod = build.podTemplate(
                plan: plan, names: names, topology: topology, runtimeClass: runtimeClass, annotations: annotations)
            switch plan.role {
            case .keyBroker:
                objects.append(build.service(names.broker, component: "kms", plan: plan, headless: false))
                objects.append(
                    build.statefulSet(names.broker, component: "kms", replicas: 1, pod: pod, brokerState: true))
            case .gateway:
                objects.append(build.service(names.gateway, component: "gateway", plan: plan, headless: false))
                objects.append(build.deployment(names.gateway, component: "gateway", pod: pod))
            case .stage(let stage):
                let name = names.stage(stage.name)
                objects.append(build.service(name, component: stage.name, plan: plan, headless: true))
                objects.append(
                    build.statefulSet(
                        name, component: stage.name, replicas: stage.replicas, pod: pod, brokerState: false))
                objects.append(
                    build.object(
                        "policy/v1", "PodDisruptionBudget", name: name, component: stage.name,
                        body: [("spec", ["maxUnavailable": 1, "selector": build.selector(stage.name)])]))
            }
        }
        objects += try build.networkPolicies(topology)

        let manifest = objects.map { "---\n" + $0.yaml }.joined()
        let kustomization: ManifestValue = [
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": [.string(Self.manifestFileName(for: topology))],
        ]
        return Rendering(
            files: [
                RenderedFile(name: Self.manifestFileName(for: topology), contents: manifest),
                RenderedFile(name: "kustomization.yaml", contents: kustomization.yaml),
            ], objects: objects, topology: deployed, warnings: warnings, initDataDigests: initDataDigests)
    }

    /// Object names: `<topology>-kms`, `<topology>-gateway`, `<topology>-<stage>`.
    struct Names {
        let topology: Topology
        var prefix: String { topology.name }
        var broker: String { "\(prefix)-kms" }
        var gateway: String { "\(prefix)-gateway" }
        var topologyConfigMap: String { "\(prefix)-topology" }
        var model: String { "\(prefix)-model" }
        var weights: String { "\(prefix)-sealed-weights" }
        func stage(_ role: String) -> String { "\(prefix)-\(role)" }

        /// Service names are DNS labels; StatefulSet pods add `-N`, so leave room for it.
        func check() throws(DeployError) {
            for (index, stage) in topology.stages.enumerated() where stage.name.count + prefix.count + 1 > 58 {
                throw DeployError(
                    "stages[\(index)].name",
                    "\"\(self.stage(stage.name))\" is too long for a Kubernetes name (at most 58)")
            }
            guard prefix.count <= 50 else {
                throw DeployError("name", "\"\(prefix)\" is too long for Kubernetes names")
            }
        }
    }
}
