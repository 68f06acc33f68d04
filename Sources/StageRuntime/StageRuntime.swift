import Foundation
public import Logging
import Observability
public import ServiceLifecycle
import Synchronization
import TimeUnits
import Wire
import ZeroMQ

/// One stage replica at run time: receives sealed hops from the gateway, checks and opens them
/// on its I/O thread, computes them in batches on its compute thread, seals and signs each
/// batch's outputs to the next role as one bundle, and sends it back. The last stage seals
/// each job's result to its client instead. Announces itself and beats its heart so the
/// gateway balances load by readiness and notices if it dies.
///
/// As a `Service` of a `ServiceGroup`, it runs its I/O loop on a dedicated thread and drains on
/// graceful shutdown (or cancellation): queued hops are computed and sent, then `run()` returns.
public final class StageRuntime: Service {
    public struct Settings: Sendable {
        public var replica: Int
        public var gatewayEndpoint: String
        public var maxBatch: Int
        public var maxDelay: Duration
        /// Hops held at once: announced to the gateway as capacity.
        public var capacity: Int
        public var heartbeatInterval: Duration
        /// The pipeline's longest deadline: how far ahead a hop's deadline may lie, and so how
        /// long the stage remembers accepted hops to refuse replays.
        public var maxDeadline: Duration

        public init(
            replica: Int, gatewayEndpoint: String, maxBatch: Int, maxDelay: Duration, capacity: Int,
            heartbeatInterval: Duration,
            maxDeadline: Duration
        ) {
            precondition(
                (1...BundleTable.maxJobs).contains(maxBatch),
                "a batch's outputs leave as one bundle of at most \(BundleTable.maxJobs) jobs")
            self.replica = replica
            self.gatewayEndpoint = gatewayEndpoint
            self.maxBatch = maxBatch
            self.maxDelay = maxDelay
            self.capacity = capacity
            self.heartbeatInterval = heartbeatInterval
            self.maxDeadline = maxDeadline
        }
    }

    public let settings: Settings
    private let workload: any StageWorkload
    private let keys: Mutex<StageKeys>
    private let counters = Mutex(StageCounters())
    private let stopRequested = Atomic<Bool>(false)
    private let logger: Logger
    private let instance = UInt64.random(in: 1...UInt64.max)
    /// The last announcement's timestamp: the gateway takes only newer ones from a connection,
    /// so they keep increasing even if the wall clock steps back.
    private let lastAnnouncement = Atomic<UInt64>(0)

    public init(keys: StageKeys, workload: any StageWorkload, settings: Settings, logger: Logger) {
        self.keys = Mutex(keys)
        self.workload = workload
        self.settings = settings
        self.logger = logger
    }

    public var role: String { keys.withLock { $0.role } }

    /// Key epochs the stage can open now (they change as keys rotate).
    public var epochs: [UInt32] { keys.withLock { $0.epochs } }

    /// The current counters.
    public var snapshot: StageCounters { counters.withLock { $0 } }

    /// Installs keys for a new epoch (after re-attestation).
    public func update(keys newKeys: StageKeys) {
        keys.withLock { $0 = newKeys }
    }

    /// Records an attestation that released keys, and how long it took.
    public func recordAttestation(seconds: Double) {
        counters.withLock {
            $0.attestations += 1
            $0.lastAttestationSeconds = seconds
        }
    }

    /// Finish what is queued, then return from `run`.
    public func drain() {
        stopRequested.store(true, ordering: .relaxed)
    }

    /// Serves on a dedicated thread until drained; graceful shutdown or cancellation drains it.
    public func run() async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await BlockingThread.run(name: "\(role).\(settings.replica)") { try self.serve() }
        } onCancelOrGracefulShutdown: {
            self.drain()
        }
    }

    /// Connects to the gateway and serves until drained. Blocking: run it on its own thread.
    public func serve() throws {
        let context = try ZMQContext()
        let gateway = try context.socket(.dealer)
        let role = self.role
        // The gateway sees this identity on every message; announcements are signed over it.
        let routingID = Array("\(role).\(settings.replica).\(String(instance, radix: 16))".utf8)
        try gateway.setRoutingID(routingID)
        try gateway.setHeartbeat(interval: settings.heartbeatInterval, timeout: settings.heartbeatInterval * 4)
        try gateway.setSendHighWaterMark(100_000)
        try gateway.setMessageLimits(
            MessageLimits(maxFrames: PipelineMessage.maximumFrameCount, maxBytes: PipelineMessage.maximumHopBytes))
        try gateway.connect(settings.gatewayEndpoint)
        let outbox = try context.socket(.pair)
        let outboxEndpoint = "inproc://stage-outbox-\(instance)"
        try outbox.bind(outboxEndpoint)

        let queue = BatchQueue<QueuedHop>(capacity: settings.capacity) { $0.accepted.jobs.count }
        counters.withLock { $0.capacity = settings.capacity }
        let computeDone = DispatchSemaphore(value: 0)
        let computeThread = Thread { [self] in
            defer { computeDone.signal() }
            do { try computeLoop(context: context, outboxEndpoint: outboxEndpoint, queue: queue) } catch {
                logger.error("stage compute loop failed", metadata: ["error": "\(error)"])
            }
        }
        computeThread.name = "\(role)-compute"
        computeThread.start()

        var receiver = HopReceiver(
            keys: keys.withLock { $0 },
            limits: .init(maxDeadlineMilliseconds: UInt64(max(0, settings.maxDeadline.wholeMilliseconds))))
        try announce(.ready, on: gateway, keys: receiver.keys, routingID: routingID)
        var nextHeartbeat = ContinuousClock.now + settings.heartbeatInterval
        let poller = Poller()
        poller.add(gateway)
        poller.add(outbox)
        logger.info(
            "stage serving",
            metadata: ["role": "\(role)", "replica": "\(settings.replica)", "gateway": "\(settings.gatewayEndpoint)"])
        // Refused hops are logged as one line per check per interval with a count.
        var warnings = WarningSampler()

        while true {
            if stopRequested.load(ordering: .relaxed) {
                queue.close()
                if queue.count == 0 { break }
            }
            // New keys (a rotation, or the end of a grace period): open with them from now on and
            // tell the gateway at once, since it routes each hop only to replicas holding its epoch.
            let current = keys.withLock { $0 }
            if current.epochs != receiver.keys.epochs || current.certificate != receiver.keys.certificate {
                receiver.update(keys: current)
                try announce(.heartbeat, on: gateway, keys: receiver.keys, routingID: routingID)
                nextHeartbeat = .now + settings.heartbeatInterval
            }
            let ready = try poller.poll(timeout: .milliseconds(50))
            if ready[1].contains(.readable) {
                while let frames = try outbox.receiveIfReady() {
                    _ = try gateway.send(frames, dontWait: false)
                }
            }
            if ready[0].contains(.readable) {
                for _ in 0..<256 {
                    guard let incoming = try gateway.receiveMessage(timeout: .zero) else { break }
                    guard case .message(let frames) = incoming else {
                        counters.withLock { $0.rejected["oversize", default: 0] += 1 }
                        warnings.record("oversize")
                        continue
                    }
                    handleIncoming(frames, receiver: &receiver, queue: queue, gateway: gateway, warnings: &warnings)
                }
            }
            for line in warnings.due(now: .now) {
                logger.warning("hops refused", metadata: ["check": "\(line.kind)", "count": "\(line.count)"])
            }
            if ContinuousClock.now >= nextHeartbeat {
                try announce(.heartbeat, on: gateway, keys: receiver.keys, routingID: routingID)
                nextHeartbeat = .now + settings.heartbeatInterval
            }
            counters.withLock { $0.queueDepth = queue.count }
        }
        queue.close()
        computeDone.wait()
        // Flush what the compute thread left in the outbox.
        while let frames = try outbox.receiveIfReady() { _ = try gateway.send(frames, dontWait: true) }
        logger.info("stage drained", metadata: ["role": "\(role)", "replica": "\(settings.replica)"])
    }

    private func handleIncoming(
        _ frames: [[UInt8]], receiver: inout HopReceiver, queue: BatchQueue<QueuedHop>, gateway: Socket,
        warnings: inout WarningSampler
    ) {
        let started = ContinuousClock.now
        counters.withLock { $0.hopsReceived += 1 }
        switch receiver.receive(frames: frames, now: Self.nowMillis()) {
        case .success(let accepted):
            let elapsed = ContinuousClock.now - started
            counters.withLock {
                $0.received += accepted.jobs.count
                $0.opens += 1
                $0.openSeconds.observe(elapsed.secondsValue)
            }
            if !queue.push(QueuedHop(accepted: accepted, received: started)) {
                let unit = accepted.bundleID ?? accepted.jobs[0].jobID
                reply(HopSender.reject(jobID: unit, code: .busy, reason: "the stage's queue is full"), on: gateway)
                counters.withLock { $0.rejected["busy", default: 0] += 1 }
            }
        case .failure(let refusal):
            counters.withLock {
                $0.received += 1
                $0.rejected[refusal.check, default: 0] += 1
            }
            warnings.record(refusal.check)
            if let jobID = refusal.jobID {
                reply(HopSender.reject(jobID: jobID, code: refusal.code, reason: refusal.reason), on: gateway)
            }
        }
    }

    private func computeLoop(context: ZMQContext, outboxEndpoint: String, queue: BatchQueue<QueuedHop>)
        throws
    {
        let outbox = try context.socket(.pair)
        try outbox.connect(outboxEndpoint)
        while true {
            let batch = queue.nextTimedBatch(maxBatch: settings.maxBatch, maxDelay: settings.maxDelay)
            if batch.items.isEmpty { return }
            let hops = batch.items.map(\.accepted)
            let jobs = hops.flatMap(\.jobs)
            let started = ContinuousClock.now
            var outcomes = workload.process(jobs.map(\.body))
            let computed = ContinuousClock.now - started
            if outcomes.count != jobs.count {
                // A workload that breaks its contract fails the batch; it does not take the stage down.
                logger.error("workload returned \(outcomes.count) outcomes for \(jobs.count) inputs")
                outcomes = Array(repeating: .failure("the stage's workload failed"), count: jobs.count)
            }
            var output = StageOutput(sender: HopSender(keys: keys.withLock { $0 }, replica: UInt16(settings.replica)))
            var offset = 0
            for hop in hops {
                let slice = Array(zip(hop.jobs, outcomes[offset..<offset + hop.jobs.count]))
                offset += hop.jobs.count
                output.add(slice, of: hop)
            }
            output.finish()
            for message in output.messages { try outbox.send(message.frames) }
            let sent = ContinuousClock.now
            counters.withLock {
                for (hop, arrived) in zip(batch.items, batch.arrivals) {
                    let jobCount = UInt64(hop.accepted.jobs.count)
                    $0.queueWaitSeconds.observe((started - arrived).secondsValue, times: jobCount)
                    $0.residenceSeconds.observe((sent - hop.received).secondsValue, times: jobCount)
                }
                $0.processed += output.processed
                $0.failed += output.failed
                $0.seals += output.sealTimes.count
                for time in output.sealTimes { $0.sealSeconds.observe(time) }
                $0.batchSizes.observe(Double(jobs.count))
                $0.computeSeconds.observe(computed.secondsValue)
            }
        }
    }

    /// A hop waiting for the compute thread, with when the I/O thread took it off the socket.
    struct QueuedHop: Sendable {
        let accepted: HopReceiver.Accepted
        let received: ContinuousClock.Instant
    }

    /// Tells the gateway the role, capacity and epochs, proven: the broker's certificate for the
    /// current signing key, and that key's signature over the announcement, its time and the
    /// socket's routing identity.
    private func announce(_ type: MessageType, on gateway: Socket, keys: StageKeys, routingID: [UInt8]) throws {
        var announcement = ReplicaAnnouncement(
            role: keys.role, replica: UInt16(settings.replica), instance: instance, capacity: UInt32(settings.capacity),
            epochs: keys.epochs, timestamp: nextAnnouncementTime(), certificate: keys.certificate.encoded())
        guard let signing = keys.signing[keys.certificate.epoch] else {
            let epoch = keys.certificate.epoch
            logger.error("no signing key for the certified epoch; not announcing", metadata: ["epoch": "\(epoch)"])
            return
        }
        announcement.signature = signing.signature(for: announcement.signedBytes(routingID: routingID))
        let header = MessageHeader(type: type, jobID: JobID(bytes: Array(repeating: 0, count: 16))!)
        _ = try gateway.send([header.encoded(), announcement.encoded()], dontWait: true)
    }

    private func nextAnnouncementTime() -> UInt64 {
        let timestamp = max(Self.nowMillis(), lastAnnouncement.load(ordering: .relaxed) + 1)
        lastAnnouncement.store(timestamp, ordering: .relaxed)
        return timestamp
    }

    private func reply(_ message: PipelineMessage, on gateway: Socket) {
        _ = try? gateway.send(message.frames, dontWait: true)
    }

    static func nowMillis() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1000)
    }
}
