extension Topology {
    /// Every process the topology runs, in start order: the key broker, the gateway, then each
    /// stage's replicas in pipeline order.
    public var services: [ServiceSpec] {
        let broker = [Topology.keyBrokerName]
        var services = [
            ServiceSpec(kind: .keyBroker, host: keyBroker.host, metrics: keyBroker.metrics, dependencies: []),
            ServiceSpec(kind: .gateway, host: gateway.host, metrics: gateway.metrics, dependencies: broker),
        ]
        for stage in stages {
            for replica in 0..<stage.replicas {
                services.append(
                    ServiceSpec(
                        kind: .stage(role: stage.name, replica: replica), host: stage.host,
                        metrics: stage.metrics(replica: replica), dependencies: broker))
            }
        }
        return services
    }

    /// The processes `sealpipe launch --host NAME` starts: the services placed on that host.
    public func services(onHost host: String) -> [ServiceSpec] {
        services.filter { $0.host == host }
    }

    /// The service with this name (`kms`, `gateway`, `shard-0.1`), or `nil`.
    public func service(named name: String) -> ServiceSpec? {
        services.first { $0.name == name }
    }
}
