import Attestation
public import Foundation
public import Logging
public import Trust
public import ZeroMQ
public import Topology
public import StageRuntime
import Workloads
import BrokerClient
import TimeUnits
public import Sodium

/// Keeps a stage's keys current across key epochs: when the epoch ends, the node attests again
/// (fresh ephemeral key, fresh nonce) and installs the new bundle's keys. The broker starts the
/// next epoch at the first request after the current one ends, so asking earlier would only
/// fetch (and log) the same keys again. The new bundle carries the previous epoch's key so that
/// hops sealed to it still open; the node forgets that key when the topology's grace period
/// after the previous epoch ends, as the broker's policy intends.
public enum KeyRotation {
    /// Spread of the replicas' wake-ups at an epoch's end, so they do not reach the broker at once.
    static let jitterMilliseconds: ClosedRange<UInt64> = 0...250
    /// How soon to ask again when the broker has not rotated yet (its clock behind ours).
    static let retryMilliseconds: Int64 = 500

    public static func keepCurrent(
        runtime: StageRuntime, bundle initial: KeyBundle, topology: Topology, role: String,
        modelFileDigests: [String: String], platformKeyFile: URL, pinnedBrokerKey: SigningPublicKey, context: ZMQContext,
        logger: Logger
    ) async throws {
        var bundle = initial
        let grace = UInt64(topology.keyBroker.grace.secondsValue * 1000)
        // The previous epoch ended when this one started; its key is kept until then + grace.
        var previousKeyExpires: UInt64? = bundle.boxKeys.count > 1 ? bundle.schedule.startsAt + grace : nil
        while !Task.isCancelled {
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            let rotation = bundle.schedule.endsAt + UInt64.random(in: jitterMilliseconds)
            if let expires = previousKeyExpires, expires < rotation {
                if expires > now { try await Task.sleep(for: .milliseconds(Int64(expires - now))) }
                // Box and signing keys alike: a hop signed with the previous epoch's key is refused.
                var keys = try StageNode.stageKeys(bundle: bundle, topology: topology, role: role)
                for epoch in keys.epochs where epoch != UInt32(exactly: bundle.schedule.epoch) {
                    keys = keys.forgetting(epoch: epoch)
                }
                runtime.update(keys: keys)
                logger.info("forgot the previous epoch's key: its grace period is over", metadata: ["epoch": "\(bundle.schedule.epoch)"])
                previousKeyExpires = nil
                continue
            }
            if rotation > now { try await Task.sleep(for: .milliseconds(Int64(rotation - now))) }
            do {
                let started = ContinuousClock.now
                let next = try await StageNode.attest(
                    topology: topology, role: role, modelFileDigests: modelFileDigests, platformKeyFile: platformKeyFile,
                    pinnedBrokerKey: pinnedBrokerKey,
                    context: context, logger: logger)
                runtime.recordAttestation(seconds: (ContinuousClock.now - started).secondsValue)
                if next.schedule.epoch <= bundle.schedule.epoch {
                    try await Task.sleep(for: .milliseconds(retryMilliseconds))
                    continue
                }
                runtime.update(keys: try StageNode.stageKeys(bundle: next, topology: topology, role: role))
                logger.info("installed keys for a new epoch", metadata: ["epoch": "\(next.schedule.epoch)"])
                bundle = next
                previousKeyExpires = next.boxKeys.count > 1 ? next.schedule.startsAt + grace : nil
            } catch is CancellationError {
                return
            } catch {
                logger.error("re-attestation failed; keeping the current keys", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(5))
            }
        }
    }
}
