public import Gateway
public import Topology

extension Topology {
    /// The gateway's limits, from the `gateway` section; roles are the stages in order.
    public var gatewayConfiguration: GatewayConfiguration {
        GatewayConfiguration(
            roles: stageRoles, maxInFlight: gateway.maxInFlight, maxPayloadBytes: gateway.maxPayload,
            defaultDeadline: gateway.deadline, maxDeadline: gateway.maxDeadline, replicaTimeout: gateway.heartbeatTimeout,
            maxAttempts: gateway.maxAttempts)
    }
}
