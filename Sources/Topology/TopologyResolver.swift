import Attestation

/// Turns a `RawTopology` into a `Topology`: applies every default, checks every rule, and
/// collects every problem with its place instead of stopping at the first.
struct TopologyResolver {
    private(set) var issues: [TopologyIssue]
    /// Places where decoding dropped a value it could not read: the resolver adds nothing at
    /// such a place or at the list holding it (a wrongly typed `layers[1]` is not also
    /// "layers: required"), one problem per place. Unknown keys drop nothing and are not here.
    private let droppedPaths: [String]
    /// Hosts that are declared but broken: references to them are not also "unknown".
    private var brokenHosts: Set<String> = []

    init(decodingIssues: [TopologyIssue]) {
        issues = decodingIssues
        droppedPaths = decodingIssues.filter { !$0.message.hasPrefix(FieldReader.unknownKey) }
            .map(\.path)
    }

    private mutating func report(_ path: String, _ message: String) {
        let dropped = droppedPaths.contains { dropped in
            guard dropped.hasPrefix(path) else { return false }
            let rest = dropped.dropFirst(path.count)
            // The place itself, or one item of the list at this place.
            return rest.isEmpty || (rest.first == "[" && rest.last == "]" && !rest.contains("."))
        }
        guard !dropped else { return }
        issues.append(TopologyIssue(path: path, message: message))
    }

    // MARK: - The whole file

    mutating func resolve(_ raw: RawTopology) -> Topology? {
        let name = resolveName(raw.name)
        let model = resolveModel(raw.model)
        let hosts = resolveHosts(raw.hosts)
        let hostNames = Set(hosts.map(\.name))
        let basePort = resolveBasePort(raw.metrics)
        var metrics = MetricsPorts(basePort: basePort, hosts: hosts)

        let keyBroker = resolveKeyBroker(raw.kms, name: name ?? "topology", hosts: hosts, metrics: &metrics)
        let gateway = resolveGateway(raw.gateway, hosts: hosts, metrics: &metrics)

        var stages: [StageSpec] = []
        var stagePaths: [String] = []
        // Every stage whose name is valid, even if something else about it is not: the policy's
        // role names are checked against these.
        var stageNames: [String] = []
        if let rawStages = raw.stages {
            if rawStages.isEmpty { report("stages", "at least one stage is required") }
            var seen: [String: String] = [:]
            for (index, item) in rawStages.enumerated() {
                let path = "stages[\(index)]"
                guard let rawStage = item.value else { continue }
                let namesBefore = seen.count
                let stage = resolveStage(
                    rawStage, path: path, model: model, hosts: hosts, seenNames: &seen, metrics: &metrics)
                if seen.count > namesBefore, let name = rawStage.name { stageNames.append(name) }
                if let stage {
                    stages.append(stage)
                    stagePaths.append(path)
                }
            }
            if stages.count == rawStages.count, let model {
                checkShape(stages, paths: stagePaths, model: model)
            }
        } else {
            report("stages", "required")
        }

        let roles = [Topology.gatewayRole] + stageNames
        let policy = resolvePolicy(
            raw.kms?.policy, roles: roles, allRolesKnown: stageNames.count == (raw.stages?.count ?? 0))

        checkPlatformKeys(raw.kms, hosts: hosts, stages: stages, policy: policy)
        if let keyBroker, let gateway {
            checkReachability(keyBroker: keyBroker, gateway: gateway, stages: stages, stagePaths: stagePaths)
            checkPorts(keyBroker: keyBroker, gateway: gateway, stages: stages, stagePaths: stagePaths, hosts: hosts)
        }

        guard issues.isEmpty, let name, let model, let keyBroker, let gateway, let policy, !hostNames.isEmpty else {
            return nil
        }
        return Topology(
            name: name, model: model, hosts: hosts, keyBroker: keyBroker, gateway: gateway, stages: stages,
            releasePolicy: policy)
    }

    /// One simulated-TEE platform key per host, trusted for that host's roles only: with several
    /// hosts, a shared key (`kms.platformKeys`) would have to be copied between machines, and
    /// whoever held it anywhere could forge evidence for every role.
    private mutating func checkPlatformKeys(
        _ raw: RawTopology.RawKeyBroker?, hosts: [HostSpec], stages: [StageSpec], policy: ReleasePolicy?
    ) {
        guard hosts.count > 1 else {
            for host in hosts where host.platformKeyPath != nil {
                report("hosts.\(host.name).platformKey", "only for topologies of several hosts; use kms.platformKeys")
            }
            return
        }
        if raw?.platformKeys != nil {
            report(
                "kms.platformKeys",
                "with several hosts, give each host its own key (hosts.NAME.platformKey), trusted for its roles only")
        }
        guard let policy else { return }
        for host in hosts where host.platformKeyPath == nil {
            let simulated = stages.filter {
                $0.host == host.name
                    && policy.roles[$0.name]?.allowedKinds.contains(EvidenceKind.simulated.rawValue) == true
            }
            guard let stage = simulated.first else { continue }
            report(
                "hosts.\(host.name).platformKey",
                "required: \(stage.name) runs here and accepts simulated evidence; make the key on that host "
                    + "(`sealpipe platform init --out DIR`) and copy only DIR/platform.pub to the broker's host")
        }
    }

    // MARK: - Sections

    private mutating func resolveName(_ raw: String?) -> String? {
        guard let raw else {
            report("name", "required")
            return nil
        }
        guard TopologyResolver.isName(raw) else {
            report("name", "\"\(raw)\" is not a valid name (\(TopologyResolver.nameRule))")
            return nil
        }
        return raw
    }

    private mutating func resolveModel(_ raw: RawTopology.RawModel?) -> ModelSpec? {
        guard let raw else {
            report("model", "required")
            return nil
        }
        guard let kindText = raw.kind else {
            report("model.kind", "required")
            return nil
        }
        guard let kind = ModelSpec.Kind(rawValue: kindText) else {
            let known = ModelSpec.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            report("model.kind", "unknown model kind \"\(kindText)\" (known: \(known))")
            return nil
        }
        switch kind {
        case .echo:
            var valid = true
            if raw.directory != nil {
                report("model.directory", "an echo model has no files")
                valid = false
            }
            if raw.layers != nil {
                report("model.layers", "an echo model has no layers")
                valid = false
            }
            return valid ? ModelSpec(kind: .echo, directory: nil, layers: 0) : nil
        case .minilm:
            let layers = raw.layers ?? TopologyDefaults.minilmLayers
            let directory = raw.directory ?? TopologyDefaults.minilmDirectory
            var valid = true
            if layers < 1 {
                report("model.layers", "must be at least 1, not \(layers)")
                valid = false
            }
            if directory.isEmpty {
                report("model.directory", "must not be empty")
                valid = false
            }
            return valid ? ModelSpec(kind: .minilm, directory: directory, layers: layers) : nil
        }
    }

    private mutating func resolveHosts(_ raw: [String: Lenient<RawTopology.RawHost>]?) -> [HostSpec] {
        guard let raw else { return [HostSpec(name: TopologyDefaults.hostName, address: TopologyDefaults.hostAddress)] }
        if raw.isEmpty { report("hosts", "at least one host is required") }
        var hosts: [HostSpec] = []
        for (name, item) in raw.sorted(by: { $0.key < $1.key }) {
            let path = "hosts.\(name)"
            brokenHosts.insert(name)
            guard let host = item.value else { continue }
            guard TopologyResolver.isName(name) else {
                report(path, "\"\(name)\" is not a valid host name (\(TopologyResolver.nameRule))")
                continue
            }
            guard let address = host.address else {
                report(path + ".address", "required")
                continue
            }
            guard Endpoint.isHostName(address) || TopologyResolver.isIPv6(address) else {
                report(path + ".address", "\"\(address)\" is not an IP address or host name")
                continue
            }
            if let key = host.platformKey, key.isEmpty { report(path + ".platformKey", "must not be empty") }
            brokenHosts.remove(name)
            hosts.append(HostSpec(name: name, address: address, platformKeyPath: host.platformKey))
        }
        return hosts
    }

    private mutating func resolveBasePort(_ raw: RawTopology.RawMetrics?) -> Int {
        let port = raw?.basePort ?? TopologyDefaults.metricsBasePort
        guard (1...65535).contains(port) else {
            report("metrics.basePort", "\(port) is not a port (1-65535)")
            return TopologyDefaults.metricsBasePort
        }
        return port
    }

    private mutating func resolveKeyBroker(
        _ raw: RawTopology.RawKeyBroker?, name: String, hosts: [HostSpec], metrics: inout MetricsPorts
    ) -> KeyBrokerSpec? {
        guard let raw else {
            report("kms", "required")
            return nil
        }
        let host = resolveHost(raw.host, path: "kms.host", hosts: hosts)
        let endpoint = resolveEndpoint(raw.endpoint, path: "kms.endpoint", host: host, hosts: hosts)
        let epoch = resolveDuration(raw.rotation?.epoch, path: "kms.rotation.epoch", default: TopologyDefaults.epoch)
        let grace = resolveDuration(raw.rotation?.grace, path: "kms.rotation.grace", default: TopologyDefaults.grace)
        if let epoch, let grace, grace >= epoch {
            report(
                "kms.rotation.grace",
                "\(UnitText.format(grace)) must be shorter than the epoch \(UnitText.format(epoch))")
        }
        let ttl = resolveDuration(raw.manifestTTL, path: "kms.manifestTTL", default: TopologyDefaults.manifestTTL)
        let state = resolvePath(raw.state, path: "kms.state", default: ".sealpipe/\(name)/kms.sqlite")
        let rootKey = resolvePath(raw.rootKey, path: "kms.rootKey", default: ".sealpipe/\(name)/root.key")
        let collateral = resolvePath(raw.collateral, path: "kms.collateral", default: ".sealpipe/collateral")
        let platformKeys = raw.platformKeys ?? [TopologyDefaults.platformKey]
        for (index, key) in platformKeys.enumerated() where key.isEmpty {
            report("kms.platformKeys[\(index)]", "must not be empty")
        }
        let metricsAddress = metrics.next(
            explicit: raw.metrics, path: "kms.metrics", host: host, report: { self.report($0, $1) })
        guard let host, let endpoint, let epoch, let grace, let ttl, let state, let rootKey, let metricsAddress,
            let collateral
        else { return nil }
        return KeyBrokerSpec(
            host: host, endpoint: endpoint, statePath: state, rootKeyPath: rootKey, platformKeyPaths: platformKeys,
            epoch: epoch, grace: grace, manifestTTL: ttl, metrics: metricsAddress, collateralPath: collateral)
    }

    private mutating func resolveGateway(
        _ raw: RawTopology.RawGateway?, hosts: [HostSpec], metrics: inout MetricsPorts
    ) -> GatewaySpec? {
        guard let raw else {
            report("gateway", "required")
            return nil
        }
        let host = resolveHost(raw.host, path: "gateway.host", hosts: hosts)
        let front = resolveEndpoint(raw.front, path: "gateway.front", host: host, hosts: hosts)
        let backend = resolveEndpoint(raw.backend, path: "gateway.backend", host: host, hosts: hosts)
        let maxInFlight = resolveCount(
            raw.maxInFlight, path: "gateway.maxInFlight", default: TopologyDefaults.maxInFlight,
            limit: TopologyDefaults.Limits.maxInFlight)
        let perClient = resolveShare(
            raw.maxInFlightPerClient, path: "gateway.maxInFlightPerClient", maxInFlight: maxInFlight)
        let perAddress = resolveShare(
            raw.maxInFlightPerAddress, path: "gateway.maxInFlightPerAddress", maxInFlight: maxInFlight)
        let maxAttempts = resolveCount(
            raw.maxAttempts, path: "gateway.maxAttempts", default: TopologyDefaults.maxAttempts,
            limit: TopologyDefaults.Limits.maxAttempts)
        let maxPayload = resolveSize(raw.maxPayload, path: "gateway.maxPayload", default: TopologyDefaults.maxPayload)
        let deadline = resolveDuration(raw.deadline, path: "gateway.deadline", default: TopologyDefaults.deadline)
        let maxDeadline = resolveDuration(
            raw.maxDeadline, path: "gateway.maxDeadline", default: max(TopologyDefaults.maxDeadline, deadline ?? .zero))
        if let deadline, let maxDeadline, maxDeadline < deadline {
            report(
                "gateway.maxDeadline",
                "\(UnitText.format(maxDeadline)) is shorter than the default deadline \(UnitText.format(deadline))")
        }
        let interval = resolveDuration(
            raw.heartbeat?.interval, path: "gateway.heartbeat.interval", default: TopologyDefaults.heartbeatInterval)
        let timeout = resolveDuration(
            raw.heartbeat?.timeout, path: "gateway.heartbeat.timeout", default: TopologyDefaults.heartbeatTimeout)
        if let interval, let timeout, timeout <= interval {
            report(
                "gateway.heartbeat.timeout",
                "\(UnitText.format(timeout)) must be longer than the interval \(UnitText.format(interval))")
        }
        let metricsAddress = metrics.next(
            explicit: raw.metrics, path: "gateway.metrics", host: host, report: { self.report($0, $1) })
        guard let host, let front, let backend, let maxInFlight, let maxAttempts, let maxPayload, let deadline,
            let maxDeadline, maxDeadline >= deadline, let interval, let timeout, let metricsAddress
        else { return nil }
        if front == backend {
            report("gateway.backend", "is the same endpoint as gateway.front")
            return nil
        }
        return GatewaySpec(
            host: host, front: front, backend: backend, maxInFlight: maxInFlight, maxInFlightPerClient: perClient,
            maxInFlightPerAddress: perAddress, maxPayload: maxPayload,
            deadline: deadline, maxDeadline: maxDeadline, heartbeatInterval: interval, heartbeatTimeout: timeout,
            maxAttempts: maxAttempts,
            metrics: metricsAddress)
    }

    private mutating func resolveStage(
        _ raw: RawTopology.RawStage, path: String, model: ModelSpec?, hosts: [HostSpec],
        seenNames: inout [String: String], metrics: inout MetricsPorts
    ) -> StageSpec? {
        var valid = true
        var name: String?
        if let rawName = raw.name {
            if !TopologyResolver.isName(rawName) {
                report(path + ".name", "\"\(rawName)\" is not a valid role name (\(TopologyResolver.nameRule))")
            } else if [Topology.gatewayRole, Topology.keyBrokerName].contains(rawName) {
                report(path + ".name", "\"\(rawName)\" is reserved")
            } else if let earlier = seenNames[rawName] {
                report(path + ".name", "\"\(rawName)\" is already used by \(earlier)")
            } else {
                seenNames[rawName] = path
                name = rawName
            }
        } else {
            report(path + ".name", "required")
        }

        var kind: StageKind?
        if let rawKind = raw.kind {
            kind = StageKind(rawValue: rawKind)
            if kind == nil {
                let known = StageKind.allCases.map(\.rawValue).joined(separator: ", ")
                report(path + ".kind", "unknown stage kind \"\(rawKind)\" (known: \(known))")
            }
        } else {
            report(path + ".kind", "required")
        }
        if let kind, let model {
            switch (model.kind, kind) {
            case (.echo, .echo), (.minilm, .tokenizer), (.minilm, .encoder), (.minilm, .pooling): break
            case (.echo, _):
                report(path + ".kind", "an echo model runs only echo stages, not \(kind.rawValue)")
                valid = false
            case (.minilm, .echo):
                report(path + ".kind", "echo stages run only with an echo model")
                valid = false
            }
        }

        let host = resolveHost(raw.host, path: path + ".host", hosts: hosts)
        let replicas = resolveCount(
            raw.replicas, path: path + ".replicas", default: 1, limit: TopologyDefaults.Limits.replicas)
        let threads = resolveCount(
            raw.threads, path: path + ".threads", default: 1, limit: TopologyDefaults.Limits.threads)
        let maxBatch = resolveCount(
            raw.batching?.maxBatch, path: path + ".batching.maxBatch", default: TopologyDefaults.maxBatch,
            limit: TopologyDefaults.Limits.maxBatch)
        let maxDelay = resolveDuration(
            raw.batching?.maxDelay, path: path + ".batching.maxDelay", default: TopologyDefaults.maxDelay,
            allowZero: true)
        var queue = resolveCount(
            raw.queue, path: path + ".queue",
            default: (maxBatch ?? TopologyDefaults.maxBatch) * TopologyDefaults.queueBatches,
            limit: TopologyDefaults.Limits.queue)
        if let given = queue, let maxBatch, given < maxBatch {
            report(path + ".queue", "\(given) is smaller than batching.maxBatch \(maxBatch)")
            queue = nil
        }

        var layers: Range<Int>?
        if let rawLayers = raw.layers {
            if let kind, kind != .encoder {
                report(path + ".layers", "only encoder stages have layers")
                valid = false
            } else if rawLayers.count != 2 {
                report(path + ".layers", "expected [start, end], a half-open range of layers")
                valid = false
            } else if rawLayers[0] < 0 || rawLayers[0] >= rawLayers[1] {
                report(path + ".layers", "range \(rawLayers[0])..<\(rawLayers[1]) is empty or negative")
                valid = false
            } else {
                layers = rawLayers[0]..<rawLayers[1]
                if let model, model.kind == .minilm, rawLayers[1] > model.layers {
                    report(
                        path + ".layers",
                        "range \(rawLayers[0])..<\(rawLayers[1]) exceeds the model's \(model.layers) layers")
                    valid = false
                }
            }
        } else if kind == .encoder {
            report(path + ".layers", "required for an encoder stage")
            valid = false
        }

        var precision = StagePrecision.fp32
        if let rawPrecision = raw.precision {
            if let parsed = StagePrecision(rawValue: rawPrecision) {
                if let kind, kind != .encoder, parsed != .fp32 {
                    report(path + ".precision", "only encoder stages run in \(parsed.rawValue)")
                    valid = false
                } else {
                    precision = parsed
                }
            } else {
                let known = StagePrecision.allCases.map(\.rawValue).joined(separator: ", ")
                report(path + ".precision", "unknown precision \"\(rawPrecision)\" (known: \(known))")
                valid = false
            }
        }

        // Replica i serves metrics on port + i, so the stage takes `replicas` consecutive ports.
        let metricsAddress = metrics.next(
            explicit: raw.metrics, path: path + ".metrics", host: host, count: replicas ?? 1,
            report: { self.report($0, $1) })

        guard valid, let name, let kind, let host, let replicas, let threads, let maxBatch, let maxDelay, let queue,
            let metricsAddress
        else { return nil }
        return StageSpec(
            name: name, kind: kind, host: host, replicas: replicas, layers: layers, maxBatch: maxBatch,
            maxDelay: maxDelay, queue: queue, threads: threads, precision: precision, metrics: metricsAddress)
    }

    /// A minilm pipeline is tokenizer, encoders covering `0..<layers` in order, pooling.
    private mutating func checkShape(_ stages: [StageSpec], paths: [String], model: ModelSpec) {
        guard model.kind == .minilm, !stages.isEmpty else { return }
        for (index, stage) in stages.enumerated() {
            let path = paths[index] + ".kind"
            let isFirst = index == 0
            let isLast = index == stages.count - 1
            switch stage.kind {
            case .tokenizer where !isFirst:
                report(path, "a tokenizer can only be the first stage")
            case .pooling where !isLast:
                report(path, "pooling can only be the last stage")
            default:
                if isFirst && stage.kind != .tokenizer {
                    report(path, "the first stage of a minilm pipeline must be a tokenizer, not \(stage.kind.rawValue)")
                } else if isLast && stage.kind != .pooling && stages.count > 1 {
                    report(path, "the last stage of a minilm pipeline must be pooling, not \(stage.kind.rawValue)")
                }
            }
        }
        let encoders = stages.indices.filter { stages[$0].kind == .encoder }
        guard !encoders.isEmpty else {
            report("stages", "a minilm pipeline needs at least one encoder stage")
            return
        }
        var covered = 0
        for index in encoders {
            guard let range = stages[index].layers else { continue }
            if range.lowerBound != covered {
                let previous =
                    covered == 0 ? "the first encoder must start at 0" : "the previous encoder ends at \(covered)"
                report(paths[index] + ".layers", "range starts at \(range.lowerBound) but \(previous)")
                return
            }
            covered = range.upperBound
        }
        if covered != model.layers {
            report("stages", "the encoders cover layers 0..<\(covered) but the model has \(model.layers)")
        }
    }

    // MARK: - Policy

    private mutating func resolvePolicy(
        _ raw: RawTopology.RawPolicy?, roles: [String], allRolesKnown: Bool
    ) -> ReleasePolicy? {
        let builtIn = RolePolicy(evidence: [
            TopologyDefaults.evidence[0]: EvidencePolicy(measurements: TopologyDefaults.measurements)
        ])
        let defaults = merge(raw?.defaults, over: builtIn, path: "kms.policy.default")
        var result: [String: RolePolicy] = [:]
        var valid = defaults != nil
        for role in roles { result[role] = defaults ?? builtIn }
        for (role, override) in (raw?.roles ?? [:]).sorted(by: { $0.key < $1.key }) {
            let path = "kms.policy.roles.\(role)"
            if role == Topology.keyBrokerName {
                report(path, "the key broker is the root of trust and has no release policy")
                continue
            }
            guard roles.contains(role) else {
                // While a stage is broken its name may be missing; do not pile a second error on it.
                if allRolesKnown {
                    report(path, "unknown role (roles are \(roles.joined(separator: ", ")))")
                }
                continue
            }
            if let merged = merge(override, over: defaults ?? builtIn, path: path) {
                result[role] = merged
            } else {
                valid = false
            }
        }
        return valid ? ReleasePolicy(roles: result) : nil
    }

    /// `raw`'s evidence map in place of `base`'s (a role that names its evidence names all of it),
    /// each kind's constraints checked at their place: unknown kinds, constraints the kind cannot
    /// carry (`minimumTCB` for `simulated`), and measurements that are neither hex nor, for
    /// `simulated` only, `reference-build`.
    private mutating func merge(
        _ raw: RawTopology.RawRolePolicy?, over base: RolePolicy?, path: String
    ) -> RolePolicy? {
        guard let base else { return nil }
        guard let evidence = raw?.evidence else { return base }
        guard !evidence.isEmpty else {
            report(path + ".evidence", "must list at least one evidence kind")
            return nil
        }
        var valid = true
        var result: [String: EvidencePolicy] = [:]
        for (kind, entry) in evidence.sorted(by: { $0.key < $1.key }) {
            let kindPath = path + ".evidence." + kind
            guard TopologyDefaults.evidenceKinds.contains(kind) else {
                let known = TopologyDefaults.evidenceKinds.joined(separator: ", ")
                report(kindPath, "unknown evidence kind \"\(kind)\" (known: \(known))")
                valid = false
                continue
            }
            // A value that did not decode has already been reported at its place.
            guard let raw = entry.value else {
                valid = false
                continue
            }
            let evidenceKind = EvidenceKind(rawValue: kind)
            var constraints = EvidencePolicy(
                measurements: [], allowDebug: raw.allowDebug ?? false, minimumTCB: raw.minimumTCB, vmpl: raw.vmpl,
                sevSNP: raw.sevSNP, tdx: raw.tdx, nvidiaGPU: raw.nvidiaGPU)
            let measurements = raw.measurements ?? (evidenceKind == .simulated ? TopologyDefaults.measurements : [])
            if measurements.isEmpty {
                report(kindPath + ".measurements", "must list at least one measurement")
                valid = false
            }
            for (index, value) in measurements.enumerated() {
                if value == TopologyDefaults.referenceBuild {
                    if evidenceKind == .simulated {
                        constraints.measurements.append(value)
                    } else {
                        report(
                            kindPath + ".measurements[\(index)]",
                            "\"\(value)\" is the simulated TEE's measurement of this build; \(kind) needs its own")
                        valid = false
                    }
                } else if value.count >= 2, value.count % 2 == 0, value.allSatisfy(\.isHexDigit),
                    value.allSatisfy(\.isASCII)
                {
                    constraints.measurements.append(value.lowercased())
                } else {
                    report(
                        kindPath + ".measurements[\(index)]",
                        "\"\(value)\" is neither hex nor \"\(TopologyDefaults.referenceBuild)\"")
                    valid = false
                }
            }
            for field in constraints.unsupportedFields(for: evidenceKind) {
                report(kindPath + "." + field, "cannot be checked on \(kind) evidence")
                valid = false
            }
            result[kind] = constraints
        }
        return valid ? RolePolicy(evidence: result) : nil
    }

    // MARK: - Endpoints and ports

    /// An `ipc://` endpoint only reaches processes on the same machine.
    private mutating func checkReachability(
        keyBroker: KeyBrokerSpec, gateway: GatewaySpec, stages: [StageSpec], stagePaths: [String]
    ) {
        if case .ipc = keyBroker.endpoint {
            let others = [gateway.host] + stages.map(\.host)
            if let far = others.first(where: { $0 != keyBroker.host }) {
                report("kms.endpoint", "an ipc:// endpoint cannot be reached from host \"\(far)\"")
            }
        }
        if case .ipc = gateway.backend, let far = stages.first(where: { $0.host != gateway.host }) {
            report("gateway.backend", "an ipc:// endpoint cannot be reached from host \"\(far.host)\"")
        }
    }

    private struct Binding {
        var address: String
        var key: String
        var path: String
        var label: String
    }

    /// No two listeners on one machine (by address) may share a TCP port or an ipc path.
    private mutating func checkPorts(
        keyBroker: KeyBrokerSpec, gateway: GatewaySpec, stages: [StageSpec], stagePaths: [String], hosts: [HostSpec]
    ) {
        func address(_ host: String) -> String { hosts.first { $0.name == host }?.address ?? host }
        func binding(_ endpoint: Endpoint, host: String, path: String) -> Binding? {
            switch endpoint {
            case .tcp(_, let port):
                Binding(address: address(host), key: "port \(port)", path: path, label: path)
            case .ipc(let file):
                Binding(address: address(host), key: "ipc path \(file)", path: path, label: path)
            case .inproc(let name):
                Binding(address: "", key: "inproc name \(name)", path: path, label: path)
            }
        }
        func metrics(_ metrics: MetricsAddress, host: String, path: String, service: String) -> Binding {
            Binding(
                address: address(host), key: "port \(metrics.port)", path: path, label: "the metrics of \(service)")
        }

        var bindings: [Binding] = []
        bindings += [binding(keyBroker.endpoint, host: keyBroker.host, path: "kms.endpoint")].compactMap { $0 }
        bindings.append(metrics(keyBroker.metrics, host: keyBroker.host, path: "kms.metrics", service: "kms"))
        bindings += [
            binding(gateway.front, host: gateway.host, path: "gateway.front"),
            binding(gateway.backend, host: gateway.host, path: "gateway.backend"),
        ].compactMap { $0 }
        bindings.append(metrics(gateway.metrics, host: gateway.host, path: "gateway.metrics", service: "gateway"))
        for (index, stage) in stages.enumerated() {
            for replica in 0..<stage.replicas {
                bindings.append(
                    metrics(
                        stage.metrics(replica: replica), host: stage.host, path: stagePaths[index] + ".metrics",
                        service: "\(stage.name).\(replica)"))
            }
        }

        var used: [String: Binding] = [:]
        for binding in bindings {
            let slot = binding.address + " " + binding.key
            if let earlier = used[slot] {
                let place = binding.address.isEmpty ? "" : " on \(binding.address)"
                let subject = binding.label == binding.path ? "" : " (\(binding.label))"
                report(binding.path, "\(binding.key)\(place)\(subject) is already used by \(earlier.label)")
            } else {
                used[slot] = binding
            }
        }
    }

    // MARK: - Field helpers

    private mutating func resolveHost(_ raw: String?, path: String, hosts: [HostSpec]) -> String? {
        guard let raw else {
            if hosts.count == 1 && brokenHosts.isEmpty { return hosts[0].name }
            if hosts.count + brokenHosts.count > 1 {
                report(path, "required when the topology has more than one host")
            }
            return nil
        }
        guard hosts.contains(where: { $0.name == raw }) else {
            if !brokenHosts.contains(raw) { report(path, "unknown host \"\(raw)\"") }
            return nil
        }
        return raw
    }

    private mutating func resolveEndpoint(_ raw: String?, path: String, host: String?, hosts: [HostSpec]) -> Endpoint? {
        guard let raw else {
            report(path, "required")
            return nil
        }
        guard let endpoint = Endpoint(raw) else {
            report(path, "\"\(raw)\" is not an endpoint (expected tcp://HOST:PORT, ipc://PATH or inproc://NAME)")
            return nil
        }
        if case .tcp(let bound, _) = endpoint, !endpoint.isWildcard, let host,
            let address = hosts.first(where: { $0.name == host })?.address, bound != address
        {
            report(path, "binds \(bound) but host \"\(host)\" is at \(address) (bind its address or *)")
            return nil
        }
        return endpoint
    }

    private mutating func resolveDuration(
        _ raw: String?, path: String, default value: Duration, allowZero: Bool = false
    ) -> Duration? {
        guard let raw else { return value }
        guard let duration = UnitText.duration(raw) else {
            report(path, "\"\(raw)\" is not a duration (a whole number and a unit: 250us, 500ms, 2s, 10m, 1h)")
            return nil
        }
        if duration == .zero && !allowZero {
            report(path, "must be longer than 0")
            return nil
        }
        return duration
    }

    private mutating func resolveSize(_ raw: String?, path: String, default value: Int) -> Int? {
        guard let raw else { return value }
        guard let size = UnitText.byteSize(raw) else {
            report(path, "\"\(raw)\" is not a size (bytes, or a whole number with KiB, MiB, GiB, KB, MB, GB)")
            return nil
        }
        guard size > 0 else {
            report(path, "must be at least 1 byte")
            return nil
        }
        return size
    }

    /// A positive count with an upper bound, so that no later arithmetic on it can overflow
    /// and no typo (`replicas: 20000`) starts a machine-filling number of processes.
    private mutating func resolveCount(_ raw: Int?, path: String, default value: Int, limit: Int) -> Int? {
        let count = raw ?? value
        guard count >= 1 else {
            report(path, "must be at least 1, not \(count)")
            return nil
        }
        guard count <= limit else {
            report(path, "must be at most \(limit), not \(count)")
            return nil
        }
        return count
    }

    /// A share of `maxInFlight` (per client or per address): `nil` when absent (the gateway's
    /// default share applies) or invalid (reported); given, it is 1 to `maxInFlight`.
    private mutating func resolveShare(_ raw: Int?, path: String, maxInFlight: Int?) -> Int? {
        guard let raw,
            let share = resolveCount(raw, path: path, default: raw, limit: TopologyDefaults.Limits.maxInFlight)
        else { return nil }
        if let maxInFlight, share > maxInFlight {
            report(path, "\(share) is more than gateway.maxInFlight (\(maxInFlight)); a share is at most the whole")
            return nil
        }
        return share
    }

    private mutating func resolvePath(_ raw: String?, path: String, default value: String) -> String? {
        let file = raw ?? value
        guard !file.isEmpty else {
            report(path, "must not be empty")
            return nil
        }
        return file
    }

    static let nameRule = "lower-case letters, digits and '-', starting with a letter or digit, at most 63"

    /// Role, host and topology names: safe in paths, metric labels and service names.
    static func isName(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 63, first.isASCII, first.isLowercase || first.isNumber else {
            return false
        }
        return text.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
    }

    static func isIPv6(_ text: String) -> Bool {
        text.contains(":") && text.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}

/// Hands out metrics addresses: an explicit `HOST:PORT` where the file gives one, otherwise
/// the next port from `metrics.basePort` on the service's host address, in service order.
struct MetricsPorts {
    private var nextPort: Int
    private let hosts: [HostSpec]

    init(basePort: Int, hosts: [HostSpec]) {
        nextPort = basePort
        self.hosts = hosts
    }

    mutating func next(
        explicit: String?, path: String, host: String?, count: Int = 1, report: (String, String) -> Void
    ) -> MetricsAddress? {
        // Derived ports advance even for a service that gives its own, so that adding an explicit
        // address to one service does not move every other service's port.
        let derivedPort = nextPort
        nextPort += max(count, 1)
        if let explicit {
            guard let address = MetricsAddress(explicit), address.port + count - 1 <= 65535 else {
                report(path, "\"\(explicit)\" is not a metrics address (expected HOST:PORT)")
                return nil
            }
            return address
        }
        guard let host, let address = hosts.first(where: { $0.name == host })?.address else { return nil }
        guard derivedPort + count - 1 <= 65535 else {
            report(path, "no metrics port left above metrics.basePort (set metrics.basePort lower)")
            return nil
        }
        return MetricsAddress(host: address, port: derivedPort)
    }
}
