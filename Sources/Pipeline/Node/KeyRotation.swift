public import Attestation
import Foundation
public import KeyBroker
public import Logging
public import Trust
public import ZeroMQ

/// Keeps a stage's keys current across key epochs: shortly before the epoch ends, the node
/// attests again (fresh ephemeral key, fresh nonce) and installs the new bundle's keys. The
/// bundle carries the previous epoch during its grace period, so in-flight hops still open.
public enum KeyRotation {
    public static func keepCurrent(
        runtime: StageRuntime, bundle initial: KeyBundle, topology: Topology, role: String, platformKey: PlatformKey,
        context: ZMQContext, logger: Logger
    ) async throws {
        var bundle = initial
        while !Task.isCancelled {
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            let length = bundle.schedule.endsAt - bundle.schedule.startsAt
            // Re-attest a little before the end: a tenth of the epoch, at most 30 s.
            let lead = min(length / 10, 30_000)
            let wake = bundle.schedule.endsAt > lead ? bundle.schedule.endsAt - lead : now
            if wake > now { try await Task.sleep(for: .milliseconds(Int64(wake - now))) }
            do {
                let next = try await StageNode.attest(topology: topology, role: role, platformKey: platformKey, context: context, logger: logger)
                if next.schedule.epoch == bundle.schedule.epoch {
                    // The broker has not rotated yet: look again shortly after the epoch's end.
                    try await Task.sleep(for: .milliseconds(Int64(max(1000, min(lead, 5000)))))
                    continue
                }
                runtime.update(keys: try StageNode.stageKeys(bundle: next, topology: topology, role: role))
                logger.info("installed keys for a new epoch", metadata: ["epoch": "\(next.schedule.epoch)"])
                bundle = next
            } catch is CancellationError {
                return
            } catch {
                logger.error("re-attestation failed; keeping the current keys", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(5))
            }
        }
    }
}
