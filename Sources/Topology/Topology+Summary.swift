import Attestation

extension Topology {
    /// A human summary for `sealpipe topology check`: roles, endpoints, services by host, and
    /// the release policy. Paths and addresses only; nothing secret is in a topology.
    public var summary: String {
        var lines: [String] = []
        let modelText =
            model.kind == .echo
            ? "echo" : "\(model.kind.rawValue), \(model.layers) layers, \(model.directory ?? "")"
        lines.append("topology \(name): \(modelText)")
        lines.append("roles: \(roles.joined(separator: " -> ")) -> \(Topology.gatewayRole)")
        lines.append("endpoints:")
        lines.append("  clients connect to   \(frontEndpoint)   (bind \(gateway.front))")
        lines.append("  stages connect to    \(backendEndpoint)   (bind \(gateway.backend))")
        lines.append("  key broker           \(keyBrokerEndpoint)   (bind \(keyBroker.endpoint))")
        lines.append(
            "gateway: maxInFlight \(gateway.maxInFlight) (\(gateway.clientShare) per client, "
                + "\(gateway.addressShare) per address), maxPayload \(UnitText.format(bytes: gateway.maxPayload)), "
                + "deadline \(UnitText.format(gateway.deadline)) (at most \(UnitText.format(gateway.maxDeadline))), heartbeat \(UnitText.format(gateway.heartbeatInterval))"
                + "/\(UnitText.format(gateway.heartbeatTimeout)), maxAttempts \(gateway.maxAttempts)")
        lines.append(
            "key broker: epoch \(UnitText.format(keyBroker.epoch)), grace \(UnitText.format(keyBroker.grace)), "
                + "manifest TTL \(UnitText.format(keyBroker.manifestTTL)), state \(keyBroker.statePath)")
        lines.append("stages:")
        for stage in stages {
            var text = "  \(stage.name): \(stage.kind.rawValue)"
            if let layers = stage.layers { text += " layers \(layers.lowerBound)..<\(layers.upperBound)" }
            text += ", \(stage.replicas) replica\(stage.replicas == 1 ? "" : "s") on \(stage.host)"
            text += ", batch \(stage.maxBatch)/\(UnitText.format(stage.maxDelay)), queue \(stage.queue)"
            text += ", threads \(stage.threads)"
            if stage.precision != .fp32 { text += ", \(stage.precision.rawValue)" }
            lines.append(text)
        }
        lines.append("services by host:")
        for host in hosts {
            let services = services(onHost: host.name)
            guard !services.isEmpty else { continue }
            lines.append("  \(host.name) (\(host.address)):")
            for service in services {
                lines.append("    \(pad(service.name, to: 18)) metrics http://\(service.metrics)/metrics")
            }
        }
        lines.append("release policy:")
        lines += policySummary.split(separator: "\n").map { "  " + $0 }
        return lines.joined(separator: "\n")
    }

    /// The release policy, one role per line in pipeline order, for `sealpipe topology policy`.
    public var policySummary: String {
        roles.map { role in
            guard let policy = releasePolicy.roles[role] else { return "\(role): (none)" }
            let kinds = policy.evidence.sorted(by: { $0.key < $1.key }).map { kind, constraints in
                var text = "\(kind) (measurements \(constraints.measurements.joined(separator: "|"))"
                text += ", debug \(constraints.allowDebug ? "allowed" : "refused")"
                if let tcb = constraints.minimumTCB { text += ", minimum TCB \(tcb)" }
                return text + ")"
            }
            return "\(role): evidence " + kinds.joined(separator: "; ")
        }.joined(separator: "\n")
    }

    private func pad(_ text: String, to width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}
