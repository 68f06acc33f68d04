import Testing
import Topology

@testable import Launcher

@Suite("Restart policy")
struct RestartPolicyTests {
    @Test("the base delay doubles from the initial one and stops at the cap")
    func exponential() {
        let policy = RestartPolicy(initialBackoff: .milliseconds(200), maxBackoff: .seconds(2), multiplier: 2)
        #expect(
            (1...6).map(policy.baseBackoff(afterCrash:)) == [
                .milliseconds(200), .milliseconds(400), .milliseconds(800), .milliseconds(1600), .seconds(2),
                .seconds(2),
            ])
        #expect(policy.baseBackoff(afterCrash: 10_000) == .seconds(2))
    }

    @Test("jitter stays within its bounds and never passes the cap")
    func jitterBounds() {
        let policy = RestartPolicy(initialBackoff: .milliseconds(200), maxBackoff: .seconds(2), jitter: 0.25)
        #expect(policy.backoffBounds(afterCrash: 1) == .milliseconds(150) ... .milliseconds(250))
        #expect(policy.backoffBounds(afterCrash: 5) == .milliseconds(1500) ... .seconds(2))
        #expect(policy.backoff(afterCrash: 1, unit: 0) == .milliseconds(150))
        #expect(policy.backoff(afterCrash: 1, unit: 1) == .milliseconds(250))
        #expect(policy.backoff(afterCrash: 1, unit: 0.5) == .milliseconds(200))
        var random = SplitMix64(seed: 7)
        for crash in 1...12 {
            for _ in 0..<200 {
                let delay = policy.backoff(afterCrash: crash, unit: random.nextUnit())
                #expect(policy.backoffBounds(afterCrash: crash).contains(delay))
                #expect(delay <= .seconds(2))
            }
        }
    }

    @Test("without jitter the delay is exact")
    func noJitter() {
        let policy = RestartPolicy(initialBackoff: .seconds(1), maxBackoff: .seconds(60), multiplier: 3, jitter: 0)
        #expect(policy.backoff(afterCrash: 3, unit: 0.9) == .seconds(9))
    }
}

@Suite("Supervisor state machine")
struct SupervisorStateTests {
    static let metrics = MetricsAddress(host: "127.0.0.1", port: 9400)
    static let kms = ServiceSpec(kind: .keyBroker, host: "local", metrics: metrics, dependencies: [])
    static let gateway = ServiceSpec(kind: .gateway, host: "local", metrics: metrics, dependencies: ["kms"])
    static let shard0 = ServiceSpec(
        kind: .stage(role: "shard-0", replica: 0), host: "local", metrics: metrics, dependencies: ["kms"])
    static let shard1 = ServiceSpec(
        kind: .stage(role: "shard-0", replica: 1), host: "local", metrics: metrics, dependencies: ["kms"])
    static let policy = RestartPolicy(
        initialBackoff: .milliseconds(100), maxBackoff: .seconds(5), multiplier: 2, jitter: 0.2,
        healthyAfter: .seconds(30), maxRapidCrashes: 3, fatalExitCodes: [78], shutdownGrace: .seconds(10))

    let t0 = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .seconds(seconds) }

    /// A supervisor with every service started and ready at t0.
    func running(_ services: [ServiceSpec] = [kms, gateway, shard0, shard1], seed: UInt64 = 1) -> SupervisorState {
        var state = SupervisorState(services: services, policy: Self.policy, seed: seed)
        _ = state.handle(.start, at: t0)
        for service in services {
            _ = state.handle(.started(service: service.name), at: t0)
            _ = state.handle(.ready(service: service.name), at: t0)
        }
        return state
    }

    func restartDelay(_ actions: [SupervisorState.Action]) -> Duration? {
        guard actions.count == 1, case .scheduleRestart(_, let delay) = actions[0] else { return nil }
        return delay
    }

    @Test("the broker starts first; the rest once it is ready")
    func startOrder() {
        var state = SupervisorState(services: [Self.kms, Self.gateway, Self.shard0], policy: Self.policy, seed: 1)
        #expect(state.phase == .idle)
        #expect(state.handle(.start, at: t0) == [.spawn(Self.kms)])
        #expect(state.phase == .running)
        #expect(state.handle(.started(service: "kms"), at: t0) == [])
        #expect(state.status(of: "gateway")?.state == .waiting)
        #expect(state.handle(.ready(service: "kms"), at: at(1)) == [.spawn(Self.gateway), .spawn(Self.shard0)])
        #expect(state.handle(.started(service: "gateway"), at: at(1)) == [])
        #expect(state.handle(.ready(service: "gateway"), at: at(2)) == [])
        #expect(state.status(of: "gateway")?.state == .ready(since: at(1)))
        #expect(state.handle(.start, at: at(3)) == [], "a second start does nothing")
    }

    @Test("a dependency on another host does not hold a service back")
    func remoteDependency() {
        var state = SupervisorState(services: [Self.shard0], policy: Self.policy, seed: 1)
        #expect(state.handle(.start, at: t0) == [.spawn(Self.shard0)])
    }

    @Test("a crash schedules a jittered restart, and the timer spawns it again")
    func restart() throws {
        var state = running()
        let delay = try #require(
            restartDelay(state.handle(.exited(service: "shard-0.0", status: .signaled(9)), at: at(2))))
        #expect(Self.policy.backoffBounds(afterCrash: 1).contains(delay))
        #expect(state.status(of: "shard-0.0")?.state == .restartPending)
        #expect(state.handle(.timerFired(service: "shard-0.0"), at: at(3)) == [.spawn(Self.shard0)])
        #expect(state.handle(.timerFired(service: "shard-0.0"), at: at(3)) == [], "a late timer is ignored")
        #expect(state.handle(.started(service: "shard-0.0"), at: at(3)) == [])
        #expect(state.status(of: "shard-0.0")?.restarts == 1)
        #expect(state.status(of: "shard-0.0")?.consecutiveCrashes == 1)
        #expect(state.status(of: "shard-0.1")?.state == .ready(since: t0), "the other replica is untouched")
    }

    @Test("rapid crashes back off further each time, then the supervisor gives up")
    func givesUp() throws {
        var state = running()
        var clock = 1.0
        for crash in 1...3 {
            let actions = state.handle(.exited(service: "gateway", status: .exited(1)), at: at(clock))
            let delay = try #require(restartDelay(actions))
            #expect(Self.policy.backoffBounds(afterCrash: crash).contains(delay), "crash \(crash)")
            #expect(state.handle(.timerFired(service: "gateway"), at: at(clock + 1)) == [.spawn(Self.gateway)])
            #expect(state.handle(.started(service: "gateway"), at: at(clock + 1)) == [])
            clock += 2
        }
        let last = state.handle(.exited(service: "gateway", status: .exited(1)), at: at(clock))
        let reason = "gateway exited with status 1; it crashed 4 times in a row, each within 30s of starting"
        #expect(last == [.giveUp(service: "gateway", reason: reason)])
        #expect(state.status(of: "gateway")?.state == .failed(reason: reason))
        #expect(state.handle(.timerFired(service: "gateway"), at: at(clock + 1)) == [])
        #expect(state.phase == .running, "giving up on one child leaves the decision to the launcher")
    }

    @Test("a healthy run resets the backoff")
    func healthyReset() throws {
        var state = running()
        for round in 0..<3 {
            let start = Double(round) * 3
            _ = state.handle(.exited(service: "shard-0.1", status: .exited(1)), at: at(start + 1))
            _ = state.handle(.timerFired(service: "shard-0.1"), at: at(start + 2))
            _ = state.handle(.started(service: "shard-0.1"), at: at(start + 2))
        }
        #expect(state.status(of: "shard-0.1")?.consecutiveCrashes == 3)
        // Restarted at 8 s and ran 31 s, longer than healthyAfter: the first crash of a new series.
        let delay = try #require(
            restartDelay(state.handle(.exited(service: "shard-0.1", status: .exited(1)), at: at(39))))
        #expect(Self.policy.backoffBounds(afterCrash: 1).contains(delay))
        #expect(state.status(of: "shard-0.1")?.consecutiveCrashes == 1)
    }

    @Test("a fatal exit code is given up on at once")
    func fatalExit() {
        var state = running()
        let actions = state.handle(.exited(service: "shard-0.0", status: .exited(78)), at: at(1))
        #expect(
            actions == [
                .giveUp(service: "shard-0.0", reason: "shard-0.0 exited with status 78, which restarting cannot fix")
            ])
    }

    @Test("a failed spawn counts as a crash")
    func spawnFailure() throws {
        var state = SupervisorState(services: [Self.kms], policy: Self.policy, seed: 3)
        #expect(state.handle(.start, at: t0) == [.spawn(Self.kms)])
        let delay = try #require(restartDelay(state.handle(.spawnFailed(service: "kms", reason: "ENOENT"), at: t0)))
        #expect(Self.policy.backoffBounds(afterCrash: 1).contains(delay))
        #expect(state.status(of: "kms")?.consecutiveCrashes == 1)
    }

    @Test("the same seed gives the same delays; another seed other delays")
    func determinism() {
        func delays(seed: UInt64) -> [Duration?] {
            var state = running(seed: seed)
            return (0..<3).map { round in
                let delay = restartDelay(
                    state.handle(.exited(service: "kms", status: .exited(1)), at: at(Double(round))))
                _ = state.handle(.timerFired(service: "kms"), at: at(Double(round)))
                _ = state.handle(.started(service: "kms"), at: at(Double(round)))
                return delay
            }
        }
        #expect(delays(seed: 42) == delays(seed: 42))
        #expect(delays(seed: 42) != delays(seed: 43))
    }

    @Test("shutdown stops the gateway, then the stages, then the broker, and restarts nothing")
    func shutdownWaves() {
        var state = running()
        _ = state.handle(.exited(service: "shard-0.1", status: .signaled(9)), at: at(1))
        #expect(
            state.handle(.shutdown, at: at(2)) == [
                .cancelRestart(service: "shard-0.1"), .scheduleShutdownDeadline(after: .seconds(10)),
                .terminate(service: "gateway"),
            ])
        #expect(state.phase == .draining)
        #expect(state.handle(.timerFired(service: "shard-0.1"), at: at(2)) == [])
        #expect(state.handle(.shutdown, at: at(2)) == [], "a second signal changes nothing")
        // A stage dying on its own while the gateway drains is not restarted.
        #expect(state.handle(.exited(service: "shard-0.0", status: .signaled(11)), at: at(3)) == [])
        #expect(state.status(of: "shard-0.0")?.state == .stopped)
        #expect(
            state.handle(.exited(service: "gateway", status: .exited(0)), at: at(4)) == [.terminate(service: "kms")])
        #expect(state.handle(.exited(service: "kms", status: .exited(0)), at: at(5)) == [.finished])
        #expect(state.phase == .finished)
        #expect(state.handle(.shutdownDeadline, at: at(12)) == [])
    }

    @Test("children that outlast the grace period are killed")
    func shutdownDeadline() {
        var state = running()
        _ = state.handle(.shutdown, at: at(1))
        #expect(
            state.handle(.exited(service: "gateway", status: .exited(0)), at: at(2)) == [
                .terminate(service: "shard-0.0"), .terminate(service: "shard-0.1"),
            ])
        #expect(state.handle(.exited(service: "shard-0.0", status: .exited(0)), at: at(3)) == [])
        #expect(state.handle(.shutdownDeadline, at: at(11)) == [.kill(service: "kms"), .kill(service: "shard-0.1")])
        #expect(
            state.handle(.exited(service: "shard-0.1", status: .signaled(9)), at: at(11)) == [
                .terminate(service: "kms")
            ])
        #expect(state.handle(.exited(service: "kms", status: .signaled(9)), at: at(11)) == [.finished])
    }

    @Test("shutdown before anything runs finishes at once")
    func shutdownIdle() {
        var state = SupervisorState(services: [Self.kms, Self.gateway], policy: Self.policy, seed: 1)
        #expect(state.handle(.shutdown, at: t0) == [.finished])
        #expect(state.handle(.start, at: t0) == [])
    }

    @Test("shutdown while waiting for the broker stops the waiting services without spawning them")
    func shutdownWhileWaiting() {
        var state = SupervisorState(services: [Self.kms, Self.gateway], policy: Self.policy, seed: 1)
        _ = state.handle(.start, at: t0)
        _ = state.handle(.started(service: "kms"), at: t0)
        #expect(
            state.handle(.shutdown, at: at(1)) == [
                .scheduleShutdownDeadline(after: .seconds(10)), .terminate(service: "kms"),
            ])
        #expect(state.status(of: "gateway")?.state == .stopped)
        #expect(state.handle(.ready(service: "kms"), at: at(1)) == [], "readiness during shutdown spawns nothing")
        #expect(state.handle(.exited(service: "kms", status: .exited(0)), at: at(2)) == [.finished])
    }

    @Test("a spawn that fails during shutdown ends that child")
    func spawnFailsWhileDraining() {
        var state = SupervisorState(services: [Self.kms], policy: Self.policy, seed: 1)
        _ = state.handle(.start, at: t0)
        #expect(
            state.handle(.shutdown, at: t0) == [
                .scheduleShutdownDeadline(after: .seconds(10)), .terminate(service: "kms"),
            ])
        #expect(state.handle(.spawnFailed(service: "kms", reason: "EAGAIN"), at: t0) == [.finished])
    }

    @Test("stale and unknown events change nothing")
    func staleEvents() {
        var state = running()
        let before = state.statuses
        #expect(state.handle(.exited(service: "nobody", status: .exited(1)), at: at(1)) == [])
        #expect(state.handle(.timerFired(service: "kms"), at: at(1)) == [])
        #expect(state.handle(.started(service: "kms"), at: at(1)) == [])
        #expect(state.handle(.ready(service: "nobody"), at: at(1)) == [])
        #expect(state.handle(.spawnFailed(service: "kms", reason: "x"), at: at(1)) == [])
        #expect(state.handle(.shutdownDeadline, at: at(1)) == [])
        #expect(state.statuses == before)
        _ = state.handle(.exited(service: "kms", status: .exited(1)), at: at(2))
        #expect(
            state.handle(.exited(service: "kms", status: .exited(1)), at: at(2)) == [], "a duplicate exit is ignored")
    }
}

@Suite("Supervisor invariants")
struct SupervisorInvariantTests {
    @Test("a restart policy without a positive, capped backoff is a programming error")
    func invalidPolicy() async {
        await #expect(processExitsWith: .failure) {
            _ = RestartPolicy(initialBackoff: .seconds(10), maxBackoff: .seconds(1))
        }
    }

    @Test("two services with one name are a programming error")
    func duplicateNames() async {
        await #expect(processExitsWith: .failure) {
            let metrics = MetricsAddress(host: "127.0.0.1", port: 1)
            let kms = ServiceSpec(kind: .keyBroker, host: "a", metrics: metrics, dependencies: [])
            _ = SupervisorState(services: [kms, kms], seed: 1)
        }
    }
}
