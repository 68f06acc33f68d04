import Node
import Testing
import Trust

@Suite("Key rotation state machine")
struct KeyRotationTests {
    static let grace: UInt64 = 2_000
    static let jitter: UInt64 = 100

    static func schedule(_ epoch: UInt64, startsAt: UInt64, length: UInt64 = 10_000) -> EpochSchedule {
        EpochSchedule(epoch: epoch, startsAt: startsAt, endsAt: startsAt + length, graceMilliseconds: grace)
    }

    func makeRotation(carriesPreviousKey: Bool = false) -> KeyRotation {
        KeyRotation(
            schedule: Self.schedule(1, startsAt: 0), carriesPreviousKey: carriesPreviousKey,
            graceMilliseconds: Self.grace, jitterMilliseconds: Self.jitter)
    }

    @Test func waitsUntilTheEpochEndsPlusItsJitterThenAttests() {
        var rotation = makeRotation()
        #expect(rotation.next(now: 0) == .wait(until: 10_100))
        #expect(rotation.next(now: 10_099) == .wait(until: 10_100))
        #expect(rotation.next(now: 10_100) == .attest)
        // Still due until an outcome is reported: asking again attests again.
        #expect(rotation.next(now: 12_000) == .attest)
    }

    @Test func installsANewerEpochAndWaitsForItsEnd() {
        var rotation = makeRotation()
        #expect(rotation.next(now: 10_100) == .attest)
        let next = Self.schedule(2, startsAt: 10_050)
        #expect(rotation.attested(next, carriesPreviousKey: false, now: 10_150) == .install(epoch: 2))
        #expect(rotation.schedule == next)
        #expect(rotation.next(now: 10_200) == .wait(until: 20_150))
    }

    @Test func aReplyForTheSameEpochIsAskedAgainShortlyNotInstalled() {
        var rotation = makeRotation()
        #expect(rotation.next(now: 10_100) == .attest)
        // The broker's clock is behind: it still serves epoch 1.
        #expect(
            rotation.attested(Self.schedule(1, startsAt: 0), carriesPreviousKey: false, now: 10_150)
                == .wait(until: 10_650))
        #expect(rotation.schedule.epoch == 1)
        #expect(rotation.next(now: 10_400) == .wait(until: 10_650))
        #expect(rotation.next(now: 10_650) == .attest)
    }

    @Test func anOlderEpochIsNeverInstalled() {
        var rotation = makeRotation()
        let later = Self.schedule(5, startsAt: 10_000)
        #expect(rotation.attested(later, carriesPreviousKey: false, now: 10_100) == .install(epoch: 5))
        #expect(
            rotation.attested(Self.schedule(4, startsAt: 0), carriesPreviousKey: false, now: 10_200)
                == .wait(until: 10_700))
        #expect(rotation.schedule == later)
    }

    @Test func aFailedAttestationKeepsTheKeysAndBacksOff() {
        var rotation = makeRotation()
        #expect(rotation.next(now: 10_100) == .attest)
        #expect(rotation.attestationFailed(now: 10_200) == .wait(until: 15_200))
        #expect(rotation.schedule.epoch == 1)
        #expect(rotation.next(now: 12_000) == .wait(until: 15_200))
        #expect(rotation.next(now: 15_200) == .attest)
    }

    @Test func thePreviousEpochsKeyIsForgottenWhenItsGracePeriodEnds() {
        // Started with a bundle that still carries epoch 0's key: kept until epoch 1 began + grace.
        var rotation = makeRotation(carriesPreviousKey: true)
        #expect(rotation.previousKeyExpires == 2_000)
        #expect(rotation.next(now: 500) == .wait(until: 2_000))
        #expect(rotation.next(now: 2_000) == .forgetPreviousEpoch(keeping: 1))
        #expect(rotation.previousKeyExpires == nil)
        // Forgotten once: next is the epoch's end.
        #expect(rotation.next(now: 2_001) == .wait(until: 10_100))
    }

    @Test func aNewBundleCarryingThePreviousKeyStartsANewGracePeriod() {
        var rotation = makeRotation()
        #expect(rotation.previousKeyExpires == nil)
        let next = Self.schedule(2, startsAt: 10_000)
        #expect(rotation.attested(next, carriesPreviousKey: true, now: 10_100) == .install(epoch: 2))
        #expect(rotation.previousKeyExpires == 12_000)
        #expect(rotation.next(now: 10_200) == .wait(until: 12_000))
        #expect(rotation.next(now: 12_500) == .forgetPreviousEpoch(keeping: 2))
        #expect(rotation.next(now: 12_500) == .wait(until: 20_100))
    }

    @Test func aGracePeriodOutlastingTheEpochLeavesTheKeyToTheNextBundle() {
        // The grace period ends after the next rotation: rotation comes first, and the next
        // bundle's own previous key (this epoch's) replaces the one held.
        var rotation = KeyRotation(
            schedule: Self.schedule(1, startsAt: 0, length: 1_000), carriesPreviousKey: true,
            graceMilliseconds: Self.grace, jitterMilliseconds: 0)
        #expect(rotation.next(now: 0) == .wait(until: 1_000))
        #expect(rotation.next(now: 1_000) == .attest)
        let next = Self.schedule(2, startsAt: 1_000, length: 1_000)
        #expect(rotation.attested(next, carriesPreviousKey: true, now: 1_010) == .install(epoch: 2))
        #expect(rotation.previousKeyExpires == 3_000)
    }
}
