public import Trust

/// When a stage's keys change across key epochs, as a value state machine: time is passed in
/// (milliseconds since 1970, the broker's clock) and each step returns the one action to take.
/// `KeyRotationService` performs them.
///
/// When the epoch ends the node attests again (fresh ephemeral key, fresh nonce) and installs the
/// new bundle's keys. The broker starts the next epoch at the first request after the current one
/// ends, so asking earlier would only fetch (and log) the same keys again; a reply for an epoch
/// not newer than the current one (the broker's clock behind ours) is asked again shortly. The new
/// bundle carries the previous epoch's key so that hops sealed to it still open; the node forgets
/// that key when the grace period after the previous epoch ends, as the broker's policy intends.
public struct KeyRotation: Sendable, Equatable {
    /// What the node does next.
    public enum Action: Sendable, Equatable {
        /// Attest to the broker now; report the outcome with `attested` or `attestationFailed`.
        case attest
        /// Install the keys of the bundle just received (this epoch's).
        case install(epoch: UInt64)
        /// Drop every epoch's keys but this one's: the previous epoch's grace period is over.
        case forgetPreviousEpoch(keeping: UInt64)
        /// Nothing to do before this time; then call `next(now:)`.
        case wait(until: UInt64)
    }

    /// How soon to ask again when the broker has not rotated yet (its clock behind ours).
    public static let retryMilliseconds: UInt64 = 500
    /// How soon to try again after an attestation failed (the current keys stay in use).
    public static let failureBackoffMilliseconds: UInt64 = 5000

    /// The epoch whose keys are installed.
    public private(set) var schedule: EpochSchedule
    /// When the previous epoch's key, still installed, is to be forgotten; nil if none is held.
    public private(set) var previousKeyExpires: UInt64?
    /// Not before this time is the broker asked again (after a stale reply or a failure).
    private var notBefore: UInt64 = 0
    private let graceMilliseconds: UInt64
    private let jitterMilliseconds: UInt64

    /// Starts from the bundle the node attested for at start-up. `carriesPreviousKey` says the
    /// bundle also holds the previous epoch's key; `jitterMilliseconds` spreads this replica's
    /// wake-ups at an epoch's end so that replicas do not reach the broker at once.
    public init(
        schedule: EpochSchedule, carriesPreviousKey: Bool, graceMilliseconds: UInt64, jitterMilliseconds: UInt64
    ) {
        self.schedule = schedule
        self.graceMilliseconds = graceMilliseconds
        self.jitterMilliseconds = jitterMilliseconds
        // The previous epoch ended when this one started; its key is kept until then + grace.
        self.previousKeyExpires = carriesPreviousKey ? schedule.startsAt + graceMilliseconds : nil
    }

    /// When this replica next asks the broker for keys.
    public var rotationDue: UInt64 { max(schedule.endsAt + jitterMilliseconds, notBefore) }

    /// The next action at `now`.
    public mutating func next(now: UInt64) -> Action {
        let rotation = rotationDue
        if let expires = previousKeyExpires, expires < rotation {
            guard expires <= now else { return .wait(until: expires) }
            previousKeyExpires = nil
            return .forgetPreviousEpoch(keeping: schedule.epoch)
        }
        return rotation <= now ? .attest : .wait(until: rotation)
    }

    /// The broker released a bundle for `schedule`: install it if it is a newer epoch, else ask
    /// again shortly.
    public mutating func attested(_ next: EpochSchedule, carriesPreviousKey: Bool, now: UInt64) -> Action {
        guard next.epoch > schedule.epoch else {
            notBefore = now + Self.retryMilliseconds
            return .wait(until: notBefore)
        }
        schedule = next
        notBefore = 0
        previousKeyExpires = carriesPreviousKey ? next.startsAt + graceMilliseconds : nil
        return .install(epoch: next.epoch)
    }

    /// The attestation failed: keep the current keys and try again after a back-off.
    public mutating func attestationFailed(now: UInt64) -> Action {
        notBefore = now + Self.failureBackoffMilliseconds
        return .wait(until: notBefore)
    }
}
