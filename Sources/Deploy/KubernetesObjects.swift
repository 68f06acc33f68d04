import Topology

/// The objects of one pipeline in one namespace; `instance` (the topology's name) tells its
/// pods from another pipeline's in the same namespace.
struct KubernetesObjects {
    let options: DeploymentOptions
    let instance: String

    /// Role → runtime class (`nil`: none); warns about every simulated-only stage.
    func runtimeClasses(_ topology: Topology, warnings: inout [String]) throws(DeployError) -> [String: String?] {
        let known = Set(topology.stageRoles + [Topology.gatewayRole, Topology.keyBrokerName])
        for role in options.runtimeClasses.keys.sorted() where !known.contains(role) {
            throw DeployError("--runtime-class", "\(role) is not a stage, gateway or kms of \(topology.name)")
        }
        var classes: [String: String?] = [:]
        for stage in topology.stages {
            let kinds = topology.releasePolicy.roles[stage.name]?.allowedKinds ?? []
            var chosen = options.runtimeClasses[stage.name]
            if chosen == nil { chosen = try RuntimeClass.default(forEvidenceKinds: kinds, role: stage.name) }
            classes[stage.name] = .some(chosen)
            if chosen == nil {
                warnings.append(
                    "\(stage.name): simulated TEE only, so no confidential runtime class: this deployment is NOT "
                        + "confidential (whoever runs the nodes can read its data and weights)")
            }
        }
        // The gateway holds no key and sees only ciphertext: it needs a class only if asked.
        classes[Topology.gatewayRole] = .some(options.runtimeClasses[Topology.gatewayRole])
        // The broker holds the root key: it runs in the stages' class when they all share one.
        let stageClasses = Set(topology.stageRoles.map { classes[$0] ?? nil })
        let brokerClass =
            options.runtimeClasses[Topology.keyBrokerName] ?? (stageClasses.count == 1 ? stageClasses.first! : nil)
        classes[Topology.keyBrokerName] = .some(brokerClass)
        if brokerClass == nil, stageClasses.contains(where: { $0 != nil }) {
            warnings.append(
                "kms: the stages use different runtime classes, so the key broker gets none; "
                    + "choose one with --runtime-class kms=CLASS")
        }
        return classes
    }

    // MARK: - Objects

    func labels(_ component: String) -> ManifestValue {
        [
            "app.kubernetes.io/name": "sealpipe", "app.kubernetes.io/instance": .string(instance),
            "app.kubernetes.io/component": .string(component),
        ]
    }

    /// Selects one component's pods of this pipeline (two pipelines may share a namespace).
    func selector(_ component: String) -> ManifestValue {
        ["matchLabels": selectorLabels(component)]
    }

    func selectorLabels(_ component: String) -> ManifestValue {
        ["app.kubernetes.io/instance": .string(instance), "app.kubernetes.io/component": .string(component)]
    }

    func object(
        _ apiVersion: String, _ kind: String, name: String, component: String,
        annotations: [(key: String, value: ManifestValue)] = [], body: [(key: String, value: ManifestValue)]
    ) -> ManifestValue {
        var metadata: [(key: String, value: ManifestValue)] = [
            ("name", .string(name)), ("namespace", .string(options.namespace)), ("labels", labels(component)),
        ]
        if !annotations.isEmpty { metadata.append(("annotations", .map(annotations))) }
        return .map(
            [("apiVersion", .string(apiVersion)), ("kind", .string(kind)), ("metadata", .map(metadata))] + body)
    }

    func namespaceObject(simulated: Bool) -> ManifestValue {
        // Pod Security "restricted" forbids hostPath, which the simulated TEE's platform key needs.
        var labels: [(key: String, value: ManifestValue)] = [
            ("pod-security.kubernetes.io/warn", "restricted"), ("pod-security.kubernetes.io/audit", "restricted"),
        ]
        if !simulated { labels.append(("pod-security.kubernetes.io/enforce", "restricted")) }
        return [
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": ["name": .string(options.namespace), "labels": .map(labels)],
        ]
    }

    func volumeClaims(names: KubernetesRenderer.Names) -> [ManifestValue] {
        [
            // Filled by the operator with the model's files; only the broker mounts it.
            object(
                "v1", "PersistentVolumeClaim", name: names.model, component: "kms",
                body: [
                    ("spec", ["accessModes": ["ReadOnlyMany"], "resources": ["requests": ["storage": "1Gi"]]])
                ]),
            // Filled by the broker: sealed shards (ciphertext) and the model's non-weight files.
            object(
                "v1", "PersistentVolumeClaim", name: names.weights, component: "kms",
                body: [
                    ("spec", ["accessModes": ["ReadWriteMany"], "resources": ["requests": ["storage": "1Gi"]]])
                ]),
        ]
    }

    func service(_ name: String, component: String, plan: ServicePlan, headless: Bool) -> ManifestValue {
        let ports = (plan.ports + [("metrics", DeploymentTopology.metricsPort)]).map { port -> ManifestValue in
            ["name": .string(port.0), "port": .integer(port.1), "targetPort": .string(port.0), "protocol": "TCP"]
        }
        var spec: [(key: String, value: ManifestValue)] = []
        if headless { spec.append(("clusterIP", "None")) }
        spec += [
            ("selector", selectorLabels(component)),
            ("ports", .list(ports)),
        ]
        return object("v1", "Service", name: name, component: component, body: [("spec", .map(spec))])
    }

    func statefulSet(_ name: String, component: String, replicas: Int, pod: ManifestValue, brokerState: Bool)
        -> ManifestValue
    {
        var spec: [(key: String, value: ManifestValue)] = [
            ("serviceName", .string(name)), ("replicas", .integer(replicas)), ("podManagementPolicy", "Parallel"),
            ("selector", selector(component)), ("template", pod),
        ]
        if brokerState {
            spec.append(
                (
                    "volumeClaimTemplates",
                    [
                        [
                            "metadata": ["name": "state"],
                            "spec": ["accessModes": ["ReadWriteOnce"], "resources": ["requests": ["storage": "1Gi"]]],
                        ]
                    ]
                ))
        }
        return object("apps/v1", "StatefulSet", name: name, component: component, body: [("spec", .map(spec))])
    }

    func deployment(_ name: String, component: String, pod: ManifestValue) -> ManifestValue {
        // One gateway at a time: two would split the replicas' credits between them.
        object(
            "apps/v1", "Deployment", name: name, component: component,
            body: [
                (
                    "spec",
                    ["replicas": 1, "strategy": ["type": "Recreate"], "selector": selector(component), "template": pod]
                )
            ])
    }

    func podTemplate(
        plan: ServicePlan, names: KubernetesRenderer.Names, topology: Topology, runtimeClass: String?,
        annotations: [(key: String, value: ManifestValue)]
    ) -> ManifestValue {
        typealias Paths = DeploymentTopology.Paths
        var volumes: [ManifestValue] = [
            ["name": "topology", "configMap": ["name": .string(names.topologyConfigMap)]],
            ["name": "scratch", "emptyDir": ["sizeLimit": "64Mi"]],
        ]
        var mounts = [
            ServicePlan.mount("topology", at: Paths.topologyDirectory),
            ServicePlan.mount("scratch", at: Paths.scratch, readOnly: false),
        ]
        let hasModel = topology.model.directory != nil
        switch plan.role {
        case .keyBroker:
            mounts.append(ServicePlan.mount("state", at: Paths.state, readOnly: false))
            volumes.append(["name": "weights", "persistentVolumeClaim": ["claimName": .string(names.weights)]])
            mounts.append(ServicePlan.mount("weights", at: Paths.weights, readOnly: false))
            if hasModel {
                volumes.append(
                    ["name": "model", "persistentVolumeClaim": ["claimName": .string(names.model), "readOnly": true]])
                mounts.append(ServicePlan.mount("model", at: Paths.modelSource))
            }
            if plan.usesPlatformKey {
                volumes.append([
                    "name": "platform", "hostPath": ["path": .string(Paths.platform), "type": "Directory"],
                ])
                mounts.append(
                    ServicePlan.mount("platform", at: Paths.platform + "/platform.pub", subPath: "platform.pub"))
            }
        case .gateway, .stage:
            // The whole volume, never a subPath: the kubelet would create a missing subPath as an
            // empty directory where the broker has yet to write a shard or its identity (which the
            // gateway and every node pin).
            volumes.append(
                [
                    "name": "weights",
                    "persistentVolumeClaim": ["claimName": .string(names.weights), "readOnly": true],
                ])
            mounts.append(ServicePlan.mount("weights", at: Paths.weights))
        }
        switch plan.role {
        case .keyBroker, .gateway:
            break
        case .stage:
            if plan.usesPlatformKey {
                volumes.append([
                    "name": "platform", "hostPath": ["path": .string(Paths.platform), "type": "Directory"],
                ])
                mounts.append(
                    ServicePlan.mount("platform", at: Paths.platform + "/platform.key", subPath: "platform.key"))
            }
        }
        var spec: [(key: String, value: ManifestValue)] = []
        if let runtimeClass { spec.append(("runtimeClassName", .string(runtimeClass))) }
        spec += [
            ("automountServiceAccountToken", false),
            ("enableServiceLinks", false),
            ("securityContext", ServicePlan.podSecurityContext),
            // Draining ends every accepted job, and none may outlive the longest deadline.
            ("terminationGracePeriodSeconds", .integer(ServicePlan.gracePeriodSeconds(topology))),
        ]
        if case .stage = plan.role {
            spec.append(("affinity", antiAffinity(plan.component)))
        }
        spec += [
            ("containers", [plan.container(image: options.image, mounts: mounts)]),
            ("volumes", .list(volumes)),
        ]
        return [
            "metadata": ["labels": labels(plan.component), "annotations": .map(annotations)],
            "spec": .map(spec),
        ]
    }

    func antiAffinity(_ component: String) -> ManifestValue {
        [
            "podAntiAffinity": [
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    [
                        "weight": 100,
                        "podAffinityTerm": [
                            "topologyKey": "kubernetes.io/hostname", "labelSelector": selector(component),
                        ],
                    ]
                ]
            ]
        ]
    }

    // MARK: - Network policies

    func networkPolicies(_ topology: Topology) throws(DeployError) -> [ManifestValue] {
        var policies = [
            object(
                "networking.k8s.io/v1", "NetworkPolicy", name: "\(topology.name)-default-deny", component: "network",
                body: [("spec", ["podSelector": [:], "policyTypes": ["Ingress", "Egress"]])]),
            object(
                "networking.k8s.io/v1", "NetworkPolicy", name: "\(topology.name)-dns-egress", component: "network",
                body: [
                    (
                        "spec",
                        [
                            "podSelector": [:], "policyTypes": ["Egress"],
                            "egress": [
                                [
                                    "to": [
                                        [
                                            "namespaceSelector": [
                                                "matchLabels": ["kubernetes.io/metadata.name": "kube-system"]
                                            ],
                                            "podSelector": ["matchLabels": ["k8s-app": "kube-dns"]],
                                        ]
                                    ],
                                    "ports": [["protocol": "UDP", "port": 53], ["protocol": "TCP", "port": 53]],
                                ]
                            ],
                        ]
                    )
                ]),
        ]
        for edge in try TopologyEdge.edges(of: topology) {
            let port: ManifestValue = ["protocol": "TCP", "port": .integer(edge.port)]
            var ingressRule: [(key: String, value: ManifestValue)] = []
            if let from = edge.from {
                ingressRule.append(("from", [["podSelector": selector(from)]]))
                policies.append(
                    object(
                        "networking.k8s.io/v1", "NetworkPolicy", name: "\(topology.name)-\(edge.name)-egress",
                        component: "network",
                        body: [
                            (
                                "spec",
                                [
                                    "podSelector": selector(from), "policyTypes": ["Egress"],
                                    "egress": [["to": [["podSelector": selector(edge.to)]], "ports": [port]]],
                                ]
                            )
                        ]))
            }
            ingressRule.append(("ports", [port]))
            policies.append(
                object(
                    "networking.k8s.io/v1", "NetworkPolicy", name: "\(topology.name)-\(edge.name)-ingress",
                    component: "network",
                    body: [
                        (
                            "spec",
                            [
                                "podSelector": selector(edge.to), "policyTypes": ["Ingress"],
                                "ingress": [.map(ingressRule)],
                            ]
                        )
                    ]))
        }
        return policies
    }
}
