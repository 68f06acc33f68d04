import Observability

/// The gateway's warning lines: what its counters gained, by class (error code sent to a client,
/// share of `maxInFlight` a client or address was refused over, reason a replica message was
/// dropped, reason a client connection was closed, socket whose over-long message was
/// discarded, failed sends), sampled to one line per class per interval with a count.
struct GatewayWarnings {
    var sampler = WarningSampler()

    /// Records what `after` counted beyond `before`.
    mutating func record(since before: GatewayCounters, now after: GatewayCounters) {
        for (code, count) in after.errors {
            sampler.record("error_\(code)", count: count - before.errors[code, default: 0])
        }
        for (share, count) in after.busyOverShare {
            sampler.record("busy_\(share)_share", count: count - before.busyOverShare[share, default: 0])
        }
        for (reason, count) in after.droppedFromReplicas {
            sampler.record("replica_\(reason)", count: count - before.droppedFromReplicas[reason, default: 0])
        }
        for (reason, count) in after.clientsClosed {
            sampler.record("client_closed_\(reason)", count: count - before.clientsClosed[reason, default: 0])
        }
        for (socket, count) in after.discarded {
            sampler.record("oversize_\(socket)", count: count - before.discarded[socket, default: 0])
        }
    }
}
