public import Gateway
public import Topology

extension Topology {
    /// The gateway's limits, from the `gateway` section; roles are the stages in order. Replicas
    /// prove their role with certificates from the broker whose identity is `brokerIdentityKey`,
    /// for this pipeline (the broker's pipeline id is the topology's name).
    public func gatewayConfiguration(brokerIdentityKey: [UInt8]) throws -> GatewayConfiguration {
        GatewayConfiguration(
            roles: stageRoles,
            replicaTrust: try ReplicaTrust(brokerIdentityKey: brokerIdentityKey, pipelineID: name),
            maxInFlight: gateway.maxInFlight, maxInFlightPerClient: gateway.clientShare,
            maxInFlightPerAddress: gateway.addressShare, maxPayloadBytes: gateway.maxPayload,
            defaultDeadline: gateway.deadline, maxDeadline: gateway.maxDeadline,
            replicaTimeout: gateway.heartbeatTimeout,
            maxAttempts: gateway.maxAttempts)
    }
}
