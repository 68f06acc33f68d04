/// I/O the gateway's state machine asks its service to perform.
public enum GatewayAction: Sendable, Equatable {
    /// Send frames to the client with this ROUTER identity.
    case toClient(identity: [UInt8], frames: [[UInt8]])
    /// Send frames to the stage replica with this ROUTER identity.
    case toReplica(identity: [UInt8], frames: [[UInt8]])
}
