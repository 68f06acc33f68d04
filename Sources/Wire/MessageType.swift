/// The kind of a pipeline message; the second byte of every header.
public enum MessageType: UInt8, Sendable, CaseIterable {
    /// Client → gateway: a sealed job.
    case submit = 1
    /// Gateway → client: the sealed result, signed by the last stage.
    case result = 2
    /// Gateway → client: the job ended with an error (code in the header).
    case error = 3
    /// Gateway → front stage replica: one client's sealed request (hop 0).
    case work = 4
    /// Last stage replica → gateway: one job's result, sealed to the client and signed.
    case forward = 5
    /// Stage replica → gateway: announces role, replica, capacity and accepted epochs.
    case ready = 6
    /// Stage replica → gateway: still alive (same body as `ready`).
    case heartbeat = 7
    /// Stage replica → gateway: the hop was refused (code in the header).
    case reject = 8
    /// Gateway → stage replica: a bundle of jobs from the previous role, sealed and signed once.
    case workBundle = 9
    /// Stage replica → gateway: its outputs for a bundle of jobs, sealed to the next role.
    case forwardBundle = 10
}
