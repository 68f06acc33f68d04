public import Foundation
public import Logging
public import ServiceLifecycle
public import Sodium
public import StageRuntime
import TimeUnits
public import Topology
public import Trust
public import ZeroMQ

/// Keeps a stage's keys current across key epochs: performs what `KeyRotation` decides
/// (attest, install, forget the previous epoch's keys, wait) against the broker and the running
/// `StageRuntime`. A `Service` that stops at graceful shutdown: rotation only matters while the
/// stage serves, and an attestation in flight is abandoned, not awaited.
public struct KeyRotationService: Service {
    /// Spread of the replicas' wake-ups at an epoch's end, so they do not reach the broker at once.
    static let jitterMilliseconds: ClosedRange<UInt64> = 0...250

    private let runtime: StageRuntime
    private let initial: KeyBundle
    private let topology: Topology
    private let role: String
    private let modelFileDigests: [String: String]
    private let platformKeyFile: URL
    private let pinnedBrokerKey: SigningPublicKey
    private let context: ZMQContext
    private let logger: Logger

    /// Rotates the keys of `runtime`, which serves with the keys of `bundle` (from start-up).
    public init(
        runtime: StageRuntime, bundle: KeyBundle, topology: Topology, role: String, modelFileDigests: [String: String],
        platformKeyFile: URL, pinnedBrokerKey: SigningPublicKey, context: ZMQContext, logger: Logger
    ) {
        self.runtime = runtime
        self.initial = bundle
        self.topology = topology
        self.role = role
        self.modelFileDigests = modelFileDigests
        self.platformKeyFile = platformKeyFile
        self.pinnedBrokerKey = pinnedBrokerKey
        self.context = context
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await rotate() }
        } catch is CancellationError {
            // Graceful shutdown (or the group's cancellation) ends rotation: nothing to finish.
        }
    }

    private func rotate() async throws {
        var bundle = initial
        var rotation = KeyRotation(
            schedule: bundle.schedule, carriesPreviousKey: bundle.boxKeys.count > 1,
            graceMilliseconds: UInt64(topology.keyBroker.grace.secondsValue * 1000),
            jitterMilliseconds: UInt64.random(in: Self.jitterMilliseconds))
        var pending: KeyBundle?
        var action = rotation.next(now: Self.now())
        while true {
            switch action {
            case .wait(let until):
                let now = Self.now()
                if until > now { try await Task.sleep(for: .milliseconds(Int64(until - now))) }
                action = rotation.next(now: Self.now())
            case .attest:
                do {
                    let started = ContinuousClock.now
                    let next = try await StageNode.attest(
                        topology: topology, role: role, modelFileDigests: modelFileDigests,
                        platformKeyFile: platformKeyFile, pinnedBrokerKey: pinnedBrokerKey, context: context,
                        logger: logger)
                    runtime.recordAttestation(seconds: (ContinuousClock.now - started).secondsValue)
                    pending = next
                    action = rotation.attested(
                        next.schedule, carriesPreviousKey: next.boxKeys.count > 1, now: Self.now())
                } catch let error as CancellationError {
                    throw error
                } catch {
                    logger.error("re-attestation failed; keeping the current keys", metadata: ["error": "\(error)"])
                    action = rotation.attestationFailed(now: Self.now())
                }
            case .install(let epoch):
                guard let next = pending, next.schedule.epoch == epoch else {
                    preconditionFailure("KeyRotation asked to install epoch \(epoch) without its bundle")
                }
                runtime.update(keys: try StageNode.stageKeys(bundle: next, topology: topology, role: role))
                logger.info("installed keys for a new epoch", metadata: ["epoch": "\(epoch)"])
                bundle = next
                pending = nil
                action = rotation.next(now: Self.now())
            case .forgetPreviousEpoch(let keeping):
                // Box and signing keys alike: a hop signed with the previous epoch's key is refused.
                var keys = try StageNode.stageKeys(bundle: bundle, topology: topology, role: role)
                for epoch in keys.epochs where epoch != UInt32(exactly: keeping) {
                    keys = keys.forgetting(epoch: epoch)
                }
                runtime.update(keys: keys)
                logger.info(
                    "forgot the previous epoch's key: its grace period is over", metadata: ["epoch": "\(keeping)"])
                action = rotation.next(now: Self.now())
            }
        }
    }

    /// Milliseconds since 1970: the clock the broker's epoch schedule is written in.
    static func now() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1000)
    }
}
