import Deploy
import Foundation
import Testing
import Topology

/// The Kubernetes manifests: every shipped topology renders and validates, and the objects
/// carry exactly the trust and hardening properties docs/deploy.md promises.
@Suite("Kubernetes rendering")
struct KubernetesRenderTests {
    @Test(
        "every topology in Topologies/ renders and passes kubernetes-validate --strict",
        arguments: ["1.30.0", "1.34.0"])
    func validates(version: String) throws {
        let (status, text) = try DeployFixture.run("kubernetes-validate", ["--version"])
        try #require(status == 0, "kubernetes-validate is not installed (Scripts/setup.sh installs it): \(text)")
        for (name, topology) in try DeployFixture.shippedTopologies() {
            let rendering = try DeployFixture.kubernetes(topology)
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("render-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // One file per object, so that a failure names the object.
            for (index, object) in rendering.objects.enumerated() {
                let file = directory.appendingPathComponent(String(format: "%03d.yaml", index))
                try Data(object.yaml.utf8).write(to: file)
            }
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
                .map { directory.appendingPathComponent($0).path }
            let (code, output) = try DeployFixture.run(
                "kubernetes-validate", ["--strict", "--kubernetes-version", version, "--quiet"] + files)
            #expect(code == 0, "\(name) for Kubernetes \(version):\n\(output)")
            // The multi-document file is the same objects.
            let manifest = try #require(rendering.files.first { $0.name == "\(topology.name).yaml" })
            #expect(manifest.contents == rendering.objects.map { "---\n" + $0.yaml }.joined())
        }
    }

    @Test("each edge of the topology has exactly one allow rule, and nothing else is allowed")
    func networkPolicies() throws {
        for (name, topology) in try DeployFixture.shippedTopologies() {
            let rendering = try DeployFixture.kubernetes(topology)
            let edges = try TopologyEdge.edges(of: topology)
            #expect(edges.count == 2 * topology.stages.count + 2)
            var ingress: [String: Int] = [:]
            var egress: [String: Int] = [:]
            for policy in rendering.objects(ofKind: "NetworkPolicy") {
                let policyName = try #require(policy.at("metadata.name")?.stringValue)
                let spec = try #require(policy["spec"])
                if policyName == "\(topology.name)-default-deny" {
                    #expect(spec["podSelector"] == [:])
                    #expect(spec["policyTypes"] == ["Ingress", "Egress"])
                    #expect(spec["ingress"] == nil && spec["egress"] == nil)
                    continue
                }
                if policyName == "\(topology.name)-dns-egress" {
                    #expect(spec["policyTypes"] == ["Egress"] && spec["ingress"] == nil)
                    let rules = try #require(spec["egress"]?.listValue)
                    #expect(rules.count == 1)
                    #expect(rules[0]["ports"] == [["protocol": "UDP", "port": 53], ["protocol": "TCP", "port": 53]])
                    #expect(rules[0].at("to.0.podSelector.matchLabels.k8s-app")?.stringValue == "kube-dns")
                    continue
                }
                let edge = try #require(
                    edges.first {
                        policyName == "\(topology.name)-\($0.name)-ingress"
                            || policyName == "\(topology.name)-\($0.name)-egress"
                    },
                    "\(name): \(policyName) allows traffic that is no topology edge")
                let port: ManifestValue = ["protocol": "TCP", "port": .integer(edge.port)]
                if policyName.hasSuffix("-ingress") {
                    ingress[edge.name, default: 0] += 1
                    #expect(spec["policyTypes"] == ["Ingress"] && spec["egress"] == nil)
                    #expect(spec["podSelector"] == Self.selector(topology, edge.to))
                    let rules = try #require(spec["ingress"]?.listValue)
                    #expect(rules.count == 1)
                    #expect(rules[0]["ports"] == [port])
                    if let from = edge.from {
                        #expect(rules[0]["from"] == [["podSelector": Self.selector(topology, from)]])
                    } else {
                        #expect(rules[0]["from"] == nil, "clients come from anywhere")
                    }
                } else {
                    egress[edge.name, default: 0] += 1
                    #expect(spec["policyTypes"] == ["Egress"] && spec["ingress"] == nil)
                    #expect(spec["podSelector"] == Self.selector(topology, try #require(edge.from)))
                    let rules = try #require(spec["egress"]?.listValue)
                    #expect(rules == [["to": [["podSelector": Self.selector(topology, edge.to)]], "ports": [port]]])
                }
            }
            for edge in edges {
                #expect(ingress[edge.name] == 1, "\(name): \(edge.name) needs one ingress rule")
                #expect(egress[edge.name] == (edge.from == nil ? nil : 1), "\(name): \(edge.name) egress")
            }
        }
    }

    static func selector(_ topology: Topology, _ component: String) -> ManifestValue {
        [
            "matchLabels": [
                "app.kubernetes.io/instance": .string(topology.name), "app.kubernetes.io/component": .string(component),
            ]
        ]
    }

    @Test("every pod is hardened, sized with requests = limits, probed, and runs the image by digest")
    func hardening() throws {
        for (name, topology) in try DeployFixture.shippedTopologies() {
            let rendering = try DeployFixture.kubernetes(topology)
            let pods = DeployFixture.podTemplates(rendering)
            #expect(pods.count == topology.stages.count + 2, "\(name)")
            for (owner, pod) in pods {
                let spec = try #require(pod["spec"])
                #expect(spec["automountServiceAccountToken"] == false, "\(owner)")
                #expect(spec.at("securityContext.runAsNonRoot") == true, "\(owner)")
                #expect(spec.at("securityContext.seccompProfile.type") == "RuntimeDefault", "\(owner)")
                let grace = try #require(spec["terminationGracePeriodSeconds"]?.integerValue)
                #expect(
                    grace >= Int(topology.gateway.maxDeadline.components.seconds), "\(owner): grace below the drain")
                #expect(pod.at("metadata.annotations")?["prometheus.io/scrape"] == "true", "\(owner)")
                #expect(pod.at("metadata.annotations")?["prometheus.io/port"] == "9400", "\(owner)")
                #expect(
                    pod.at("metadata.annotations")?["sealpipe.dev/topology-sha256"]?.stringValue
                        == rendering.topology.digest)
                let containers = try #require(spec["containers"]?.listValue)
                #expect(containers.count == 1)
                for container in containers {
                    #expect(container["image"]?.stringValue == DeployFixture.image.description, "\(owner)")
                    #expect(container["image"]?.stringValue?.contains("@sha256:") == true)
                    let security = try #require(container["securityContext"])
                    #expect(security["readOnlyRootFilesystem"] == true, "\(owner)")
                    #expect(security["allowPrivilegeEscalation"] == false, "\(owner)")
                    #expect(security.at("capabilities.drop") == ["ALL"], "\(owner)")
                    #expect(security["privileged"] == nil)
                    let requests = try #require(container.at("resources.requests"))
                    #expect(requests == container.at("resources.limits"), "\(owner): requests must equal limits")
                    #expect(requests["cpu"] != nil && requests["memory"] != nil)
                    for probe in ["readinessProbe", "livenessProbe"] {
                        #expect(container.at("\(probe).httpGet.path") == "/status", "\(owner) \(probe)")
                        #expect(container.at("\(probe).httpGet.port") == "metrics", "\(owner) \(probe)")
                    }
                    // A subPath the broker has yet to fill would be created by the kubelet as a directory.
                    let mounts = container["volumeMounts"]?.listValue ?? []
                    #expect(mounts.allSatisfy { $0["subPath"] == nil || $0["name"] == "platform" }, "\(owner)")
                    let args = try #require(container["args"]?.stringListValue)
                    #expect(args.contains(DeploymentTopology.Paths.topology), "\(owner) runs the delivered topology")
                }
            }
            for stage in topology.stages {
                let set = try #require(rendering.object(kind: "StatefulSet", name: "\(topology.name)-\(stage.name)"))
                #expect(set.at("spec.replicas")?.integerValue == stage.replicas)
                #expect(set.at("spec.serviceName")?.stringValue == "\(topology.name)-\(stage.name)")
                let service = try #require(rendering.object(kind: "Service", name: "\(topology.name)-\(stage.name)"))
                #expect(service.at("spec.clusterIP") == "None", "stages have headless Services")
                #expect(rendering.object(kind: "PodDisruptionBudget", name: "\(topology.name)-\(stage.name)") != nil)
                let affinity = "spec.template.spec.affinity.podAntiAffinity"
                let term = try #require(
                    set.at("\(affinity).preferredDuringSchedulingIgnoredDuringExecution.0.podAffinityTerm"))
                #expect(term["topologyKey"] == "kubernetes.io/hostname")
                #expect(term["labelSelector"] == Self.selector(topology, stage.name))
            }
            let broker = try #require(rendering.object(kind: "StatefulSet", name: "\(topology.name)-kms"))
            #expect(broker.at("spec.volumeClaimTemplates.0.metadata.name") == "state")
            #expect(rendering.object(kind: "Deployment", name: "\(topology.name)-gateway") != nil)
            #expect(rendering.object(kind: "Service", name: "\(topology.name)-gateway") != nil)
        }
    }

    @Test("no Secret exists and the one ConfigMap holds the topology and no key material or weights")
    func noKeyMaterial() throws {
        for (name, topology) in try DeployFixture.shippedTopologies() {
            let rendering = try DeployFixture.kubernetes(topology)
            #expect(rendering.objects(ofKind: "Secret").isEmpty, "\(name)")
            let maps = rendering.objects(ofKind: "ConfigMap")
            #expect(maps.count == 1)
            let data = try #require(maps.first?["data"])
            guard case .map(let members) = data else {
                Issue.record("data is not a mapping")
                continue
            }
            #expect(members.map(\.key) == ["topology.yaml"])
            let text = try #require(members.first?.value.stringValue)
            #expect(text == rendering.topology.text)
            #expect(text.utf8.count < 16_384, "\(name): far too big for a topology")
            for needle in ["PRIVATE KEY", "SPPLATK1", "BEGIN ", "root.key:", "platform.key"] {
                #expect(!text.contains(needle), "\(name): the ConfigMap mentions \(needle)")
            }
            // Paths only: no long base64 or hex run that could be a key or a weight.
            let runs = text.split { !($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/" || $0 == "=") }
            #expect(runs.allSatisfy { $0.count < 64 }, "\(name): a long base64 or hex run")
        }
    }

    @Test("a sev-snp role runs under kata-qemu-snp, a tdx role under kata-qemu-tdx, overrides win")
    func runtimeClasses() throws {
        let snp = try DeployFixture.kubernetes(DeployFixture.minilm(evidence: "sev-snp"))
        let tdx = try DeployFixture.kubernetes(DeployFixture.minilm(evidence: "tdx"))
        let gpu = try DeployFixture.kubernetes(
            DeployFixture.minilm(evidence: "sev-snp"), runtimeClasses: ["shard-0": "kata-qemu-nvidia-gpu-snp"])
        for stage in ["preprocessor", "shard-0", "shard-1", "postprocessor"] {
            let name = "minilm-\(stage)"
            #expect(
                snp.object(kind: "StatefulSet", name: name)?.at("spec.template.spec.runtimeClassName")
                    == "kata-qemu-snp")
            #expect(
                tdx.object(kind: "StatefulSet", name: name)?.at("spec.template.spec.runtimeClassName")
                    == "kata-qemu-tdx")
            let expected: ManifestValue = stage == "shard-0" ? "kata-qemu-nvidia-gpu-snp" : "kata-qemu-snp"
            #expect(gpu.object(kind: "StatefulSet", name: name)?.at("spec.template.spec.runtimeClassName") == expected)
        }
        #expect(snp.warnings.isEmpty)
        #expect(
            snp.object(kind: "StatefulSet", name: "minilm-kms")?.at("spec.template.spec.runtimeClassName")
                == "kata-qemu-snp")
        #expect(
            snp.objects(ofKind: "Namespace").first?.at("metadata.labels")?["pod-security.kubernetes.io/enforce"]
                == "restricted")
        // A confidential pod mounts no host path.
        for (owner, pod) in DeployFixture.podTemplates(snp) {
            let volumes = pod.at("spec.volumes")?.listValue ?? []
            #expect(volumes.allSatisfy { $0["hostPath"] == nil }, "\(owner)")
        }
        let mixed = try DeployFixture.kubernetes(DeployFixture.minilm(evidence: "simulated", shard0: "sev-snp"))
        #expect(
            mixed.object(kind: "StatefulSet", name: "minilm-shard-0")?.at("spec.template.spec.runtimeClassName")
                == "kata-qemu-snp")
        #expect(
            mixed.object(kind: "StatefulSet", name: "minilm-shard-1")?.at("spec.template.spec.runtimeClassName") == nil)
        #expect(throws: DeployError.self) {
            try DeployFixture.kubernetes(DeployFixture.minilm(evidence: "sev-snp, tdx"))
        }
        #expect(throws: DeployError.self) {
            try DeployFixture.kubernetes(DeployFixture.topology("minilm.yaml"), runtimeClasses: ["shard-9": "x"])
        }
    }

    @Test("a confidential pod carries initdata that names the topology digest and pins its command")
    func initData() throws {
        let rendering = try DeployFixture.kubernetes(DeployFixture.minilm(evidence: "sev-snp"))
        let set = try #require(rendering.object(kind: "StatefulSet", name: "minilm-shard-0"))
        let annotations = try #require(set.at("spec.template.metadata.annotations"))
        let encoded = try #require(annotations[InitData.annotation]?.stringValue)
        let gzipped = try #require(Data(base64Encoded: encoded))
        // An independent gzip reader must inflate it to the document whose digest is announced.
        let (status, document) = try DeployFixture.run("gzip", ["-dc"], input: gzipped)
        #expect(status == 0)
        #expect(document.contains("topology = \"sha256:\(rendering.topology.digest)\""))
        #expect(document.contains("role = \"shard-0\""))
        #expect(document.contains("default CreateContainerRequest := false"))
        let args = try #require(set.at("spec.template.spec.containers.0.args")?.stringListValue)
        let command = (["/usr/bin/sealpipe"] + args).map { "\"\($0)\"" }.joined(separator: ", ")
        #expect(document.contains("[\(command)]"), "the policy pins the exact command")
        #expect(annotations["sealpipe.dev/initdata-sha256"]?.stringValue == rendering.initDataDigests["shard-0"])
        let (_, digest) = try DeployFixture.run("sha256sum", [], input: Data(document.utf8))
        #expect(digest.hasPrefix(rendering.initDataDigests["shard-0"] ?? "-"))
    }

    @Test("the broker is told each confidential pod's initdata digest, which its HOST_DATA must carry")
    func brokerPinsInitData() throws {
        let rendering = try DeployFixture.kubernetes(DeployFixture.minilm(evidence: "sev-snp"))
        let broker = try #require(rendering.object(kind: "StatefulSet", name: "minilm-kms"))
        let args = try #require(broker.at("spec.template.spec.containers.0.args")?.stringListValue)
        for stage in ["preprocessor", "shard-0", "shard-1", "postprocessor"] {
            let digest = try #require(rendering.initDataDigests[stage])
            let index = try #require(args.firstIndex(of: "\(stage)=\(digest)"))
            #expect(args[index - 1] == "--host-data")
        }
        // A simulated pipeline has no initdata, so the broker pins none.
        let simulated = try DeployFixture.kubernetes(DeployFixture.minilm(evidence: "simulated"))
        let plain = try #require(simulated.object(kind: "StatefulSet", name: "minilm-kms"))
        let plainArgs = try #require(plain.at("spec.template.spec.containers.0.args")?.stringListValue)
        #expect(!plainArgs.contains("--host-data"))
    }

    @Test("the simulated policy renders with its warning, no runtime class, and an annotation")
    func simulatedWarning() throws {
        let rendering = try DeployFixture.kubernetes(DeployFixture.topology("minilm.yaml"))
        #expect(rendering.warnings.count == 4)
        #expect(rendering.warnings.allSatisfy { $0.contains("NOT confidential") })
        for (owner, pod) in DeployFixture.podTemplates(rendering)
        where owner != "minilm-kms" && owner != "minilm-gateway" {
            #expect(pod.at("spec.runtimeClassName") == nil, "\(owner)")
            #expect(pod.at("metadata.annotations")?["sealpipe.dev/confidential"] == "false", "\(owner)")
            #expect(pod.at("metadata.annotations")?[InitData.annotation] == nil, "\(owner)")
        }
        #expect(
            rendering.objects(ofKind: "Namespace").first?.at("metadata.labels")?["pod-security.kubernetes.io/enforce"]
                == nil)
    }

    @Test("the delivered topology keeps every behaviour of the source and reaches peers by Service name")
    func deliveredTopology() throws {
        for (name, source) in try DeployFixture.shippedTopologies() {
            let delivered = try DeployFixture.kubernetes(source, namespace: "ml").topology
            let topology = delivered.topology
            #expect(topology.roles == source.roles, "\(name)")
            #expect(topology.releasePolicy == source.releasePolicy, "\(name)")
            #expect(topology.model.kind == source.model.kind && topology.model.layers == source.model.layers)
            let (g, h) = (topology.gateway, source.gateway)
            #expect(g.maxInFlight == h.maxInFlight && g.maxPayload == h.maxPayload && g.maxAttempts == h.maxAttempts)
            #expect(g.deadline == h.deadline && g.maxDeadline == h.maxDeadline, "\(name)")
            #expect(g.heartbeatInterval == h.heartbeatInterval && g.heartbeatTimeout == h.heartbeatTimeout)
            #expect(g.maxInFlightPerClient == h.maxInFlightPerClient, "\(name)")
            #expect(g.maxInFlightPerAddress == h.maxInFlightPerAddress, "\(name)")
            for (a, b) in zip(topology.stages, source.stages) {
                #expect(a.kind == b.kind && a.layers == b.layers && a.replicas == b.replicas, "\(name) \(a.name)")
                #expect(
                    a.maxBatch == b.maxBatch && a.maxDelay == b.maxDelay && a.queue == b.queue && a.threads == b.threads
                )
            }
            #expect(
                topology.keyBroker.epoch == source.keyBroker.epoch && topology.keyBroker.grace == source.keyBroker.grace
            )
            #expect(topology.keyBrokerEndpoint.description.hasPrefix("tcp://\(source.name)-kms.ml.svc.cluster.local:"))
            #expect(
                topology.backendEndpoint.description.hasPrefix("tcp://\(source.name)-gateway.ml.svc.cluster.local:"))
            #expect(Array(delivered.digest.utf8).count == 64)
            #expect(topology.digest.map { String(format: "%02x", $0) }.joined() == delivered.digest)
        }
    }

    @Test("the gateway's shares of maxInFlight are delivered when the source sets them, and only then")
    func deliveredShares() throws {
        var text = try String(
            contentsOf: DeployFixture.repository.appendingPathComponent("Topologies/minilm.yaml"), encoding: .utf8)
        let plain = try DeployFixture.kubernetes(Topology(yaml: text)).topology
        #expect(!plain.text.contains("maxInFlightPer"))
        #expect(
            plain.topology.gateway.maxInFlightPerClient == nil && plain.topology.gateway.maxInFlightPerAddress == nil)
        precondition(
            text.contains("  maxInFlight: 1024\n"), "Topologies/minilm.yaml's gateway changed; update this test")
        text = text.replacingOccurrences(
            of: "  maxInFlight: 1024\n",
            with: "  maxInFlight: 1024\n  maxInFlightPerClient: 16\n  maxInFlightPerAddress: 64\n")
        let delivered = try DeployFixture.kubernetes(Topology(yaml: text)).topology.topology.gateway
        #expect(delivered.maxInFlightPerClient == 16 && delivered.maxInFlightPerAddress == 64)
    }

    @Test("an image without a digest, a bad namespace or an ipc endpoint is refused with its place")
    func refusals() throws {
        #expect(
            throws: DeployError(
                "--image",
                "\"localhost/sealpipe:0.1.0\" is not an image by digest "
                    + "(REPOSITORY@sha256:HEX, as Scripts/image.sh prints)"
            )
        ) {
            try ImageReference("localhost/sealpipe:0.1.0")
        }
        #expect(throws: DeployError.self) { try ImageReference("localhost/sealpipe@sha256:abc") }
        #expect(throws: DeployError.self) {
            try DeployFixture.kubernetes(DeployFixture.topology("echo.yaml"), namespace: "Not_A_Label")
        }
        let ipc = try Topology(
            yaml: """
                name: t
                model: {kind: echo}
                kms: {endpoint: "ipc:///tmp/t-kms"}
                gateway: {front: "tcp://127.0.0.1:7001", backend: "tcp://127.0.0.1:7002"}
                stages:
                  - {name: a, kind: echo}
                """)
        #expect(throws: DeployError.self) { try DeployFixture.kubernetes(ipc) }
    }
}
