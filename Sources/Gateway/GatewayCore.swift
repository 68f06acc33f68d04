import Wire

/// The gateway's state machine: accepts sealed jobs from clients, dispatches each hop to a
/// ready replica of the next role, retries hops whose replica died, enforces deadlines, and
/// ends every accepted job with exactly one result or one error.
///
/// A value with no I/O: each event returns the messages to send. Time is Unix milliseconds,
/// passed in, so tests drive it. It never sees a key: everything it routes is ciphertext plus
/// the header.
public struct GatewayCore: Sendable {
    public let configuration: GatewayConfiguration
    public private(set) var counters = GatewayCounters()
    public private(set) var isDraining = false

    private var replicas: [[UInt8]: Replica] = [:]
    private var jobs: [JobID: Job] = [:]
    /// Jobs waiting for a replica of each role, oldest first.
    private var waiting: [String: [JobID]] = [:]

    struct Replica {
        let identity: [UInt8]
        var announcement: ReplicaAnnouncement
        var lastSeen: UInt64
        var assigned: Set<JobID> = []
        var hasRoom: Bool { assigned.count < Int(announcement.capacity) }
    }

    struct Job {
        let client: [UInt8]
        let deadline: UInt64
        /// Index into `configuration.roles` of the role that must process `hop` next.
        var roleIndex: Int
        /// The sealed hop to (re)dispatch: `work` header, ciphertext, signature.
        var hop: PipelineMessage
        var assignedTo: [UInt8]?
        var attempts = 0
    }

    public init(configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    /// Jobs accepted and not yet ended.
    public var jobsInFlight: Int { jobs.count }
    /// True once draining and every accepted job has ended.
    public var isDrained: Bool { isDraining && jobs.isEmpty }

    /// A snapshot of each live replica, for status and metrics.
    public var replicaStatus: [ReplicaStatus] {
        replicas.values.map {
            ReplicaStatus(
                role: $0.announcement.role, replica: Int($0.announcement.replica), inFlight: $0.assigned.count,
                capacity: Int($0.announcement.capacity), lastSeen: $0.lastSeen)
        }.sorted { ($0.role, $0.replica) < ($1.role, $1.replica) }
    }

    /// Jobs queued for each role because no replica had room.
    public var queueDepths: [String: Int] { waiting.mapValues(\.count) }

    // MARK: Events

    /// A message from a client on the front socket.
    public mutating func clientMessage(identity: [UInt8], frames: [[UInt8]], now: UInt64) -> [GatewayAction] {
        counters.requests += 1
        let message: PipelineMessage
        do {
            message = try PipelineMessage(frames: frames)
        } catch {
            // Answer with the job id if the header at least decoded, so the client can match it.
            let jobID = frames.first.flatMap { try? MessageHeader(decoding: $0) }?.jobID ?? JobID(bytes: Array(repeating: 0, count: 16))!
            let code: ErrorCode = if case .unsupportedVersion = error { .unsupportedVersion } else { .malformed }
            return refuse(identity, jobID, code, "\(code.defaultMessage): \(error)")
        }
        let header = message.header
        guard header.type == .submit else {
            return refuse(identity, header.jobID, .malformed, "clients may only send submit messages, not \(header.type)")
        }
        let sealed = message.body[0]
        guard sealed.count <= configuration.maxPayloadBytes else {
            return refuse(
                identity, header.jobID, .tooLarge,
                "the sealed request is \(sealed.count) bytes; the limit is \(configuration.maxPayloadBytes)")
        }
        guard !sealed.isEmpty else { return refuse(identity, header.jobID, .malformed, "the sealed request is empty") }
        guard !isDraining else { return refuse(identity, header.jobID, .shuttingDown) }
        guard jobs[header.jobID] == nil else { return refuse(identity, header.jobID, .duplicateJob) }
        guard jobs.count < configuration.maxInFlight else { return refuse(identity, header.jobID, .busy) }
        let frontEpochs = knownEpochs(of: configuration.roles[0])
        guard frontEpochs.isEmpty || frontEpochs.contains(header.epoch) else {
            return refuse(
                identity, header.jobID, .unknownEpoch,
                "key epoch \(header.epoch) is not held by the front stage (it holds \(frontEpochs.sorted())); fetch a fresh manifest")
        }

        let requested = header.deadline == 0 ? configuration.defaultDeadline : .milliseconds(Int64(clamping: header.deadline))
        let timeout = min(requested, configuration.maxDeadline)
        let deadline = now + UInt64(timeout.wholeMilliseconds)
        let hopHeader = MessageHeader(type: .work, epoch: header.epoch, jobID: header.jobID, deadline: deadline, hop: 0)
        jobs[header.jobID] = Job(
            client: identity, deadline: deadline, roleIndex: 0, hop: PipelineMessage(header: hopHeader, body: [sealed, []]))
        counters.accepted += 1
        return dispatch(header.jobID)
    }

    /// A message from a stage replica on the backend socket.
    public mutating func replicaMessage(identity: [UInt8], frames: [[UInt8]], now: UInt64) -> [GatewayAction] {
        let message: PipelineMessage
        do {
            message = try PipelineMessage(frames: frames)
        } catch {
            counters.countDrop("malformed")
            return []
        }
        replicas[identity]?.lastSeen = now
        switch message.header.type {
        case .ready, .heartbeat:
            return announce(identity: identity, body: message.body[0], now: now)
        case .forward:
            return forward(from: identity, message: message)
        case .reject:
            return rejected(by: identity, message: message)
        case .submit, .result, .error, .work:
            counters.countDrop("unexpected_type")
            return []
        }
    }

    /// Time passed: ends overdue jobs, buries silent replicas and retries their hops.
    public mutating func tick(now: UInt64) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        let timeout = UInt64(configuration.replicaTimeout.wholeMilliseconds)
        for (identity, replica) in replicas where now > replica.lastSeen + timeout {
            actions += bury(identity)
        }
        for (id, job) in jobs where now >= job.deadline {
            actions += end(id, with: PipelineMessage.error(.deadlineExceeded, jobID: id), client: job.client, code: .deadlineExceeded)
        }
        return actions
    }

    /// Stop accepting jobs; those in flight go on to their end.
    public mutating func beginDraining() {
        isDraining = true
    }

    // MARK: Replicas

    private mutating func announce(identity: [UInt8], body: [UInt8], now: UInt64) -> [GatewayAction] {
        guard let announcement = try? ReplicaAnnouncement(decoding: body) else {
            counters.countDrop("malformed_announcement")
            return []
        }
        guard configuration.roles.contains(announcement.role) else {
            counters.countDrop("unknown_role")
            return []
        }
        if var known = replicas[identity] {
            known.announcement = announcement
            known.lastSeen = now
            replicas[identity] = known
        } else {
            replicas[identity] = Replica(identity: identity, announcement: announcement, lastSeen: now)
        }
        return pump(role: announcement.role)
    }

    private mutating func bury(_ identity: [UInt8]) -> [GatewayAction] {
        guard let replica = replicas.removeValue(forKey: identity) else { return [] }
        counters.replicasLost += 1
        var actions: [GatewayAction] = []
        for id in replica.assigned {
            guard var job = jobs[id] else { continue }
            job.assignedTo = nil
            jobs[id] = job
            if job.attempts >= configuration.maxAttempts {
                actions += end(
                    id, with: PipelineMessage.error(.stageFailed, jobID: id, message: "replicas of \(replica.announcement.role) died \(job.attempts) times while holding the job"),
                    client: job.client, code: .stageFailed)
            } else {
                counters.retries += 1
                actions += dispatch(id)
            }
        }
        return actions
    }

    private func knownEpochs(of role: String) -> Set<UInt32> {
        Set(replicas.values.filter { $0.announcement.role == role }.flatMap(\.announcement.epochs))
    }

    // MARK: Jobs

    private mutating func forward(from identity: [UInt8], message: PipelineMessage) -> [GatewayAction] {
        let id = message.header.jobID
        // Only the replica holding the job may move it on: late or forged forwards are dropped.
        guard var job = jobs[id], job.assignedTo == identity, var replica = replicas[identity] else {
            counters.countDrop("unexpected_forward")
            return []
        }
        replica.assigned.remove(id)
        replicas[identity] = replica
        var actions: [GatewayAction] = []
        if job.roleIndex == configuration.roles.count - 1 {
            var header = message.header
            header.type = .result
            header.deadline = job.deadline
            actions += end(id, with: PipelineMessage(header: header, body: message.body), client: job.client, code: nil)
        } else {
            var header = message.header
            header.type = .work
            header.hop = UInt16(job.roleIndex + 1)
            job.roleIndex += 1
            job.hop = PipelineMessage(header: header, body: message.body)
            job.assignedTo = nil
            job.attempts = 0
            jobs[id] = job
            actions += dispatch(id)
        }
        return actions + pump(role: replica.announcement.role)
    }

    private mutating func rejected(by identity: [UInt8], message: PipelineMessage) -> [GatewayAction] {
        let id = message.header.jobID
        guard let job = jobs[id], job.assignedTo == identity else {
            counters.countDrop("unexpected_reject")
            return []
        }
        let code = ErrorCode(rawValue: message.header.code) ?? .stageFailed
        let role = replicas[identity]?.announcement.role ?? "a stage"
        let reason = String(decoding: message.body[0].prefix(512), as: UTF8.self)
        let text = "\(role) refused the job: \(reason.isEmpty ? code.defaultMessage : reason)"
        replicas[identity]?.assigned.remove(id)
        return end(id, with: PipelineMessage.error(code, jobID: id, message: text), client: job.client, code: code)
            + pump(role: role)
    }

    /// Sends the job's current hop to the least-loaded live replica of its role that holds the
    /// hop's epoch, or queues it.
    private mutating func dispatch(_ id: JobID) -> [GatewayAction] {
        guard var job = jobs[id] else { return [] }
        let role = configuration.roles[job.roleIndex]
        let epoch = job.hop.header.epoch
        let candidates = replicas.values.filter {
            $0.announcement.role == role && $0.hasRoom && ($0.announcement.epochs.isEmpty || $0.announcement.epochs.contains(epoch))
        }
        guard let chosen = candidates.min(by: { $0.assigned.count < $1.assigned.count }) else {
            if !(waiting[role]?.contains(id) ?? false) { waiting[role, default: []].append(id) }
            return []
        }
        job.assignedTo = chosen.identity
        job.attempts += 1
        jobs[id] = job
        replicas[chosen.identity]?.assigned.insert(id)
        return [.toReplica(identity: chosen.identity, frames: job.hop.frames)]
    }

    /// Dispatches queued jobs of `role` while its replicas have room.
    private mutating func pump(role: String) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        while let next = waiting[role]?.first {
            guard replicas.values.contains(where: { $0.announcement.role == role && $0.hasRoom }) else { break }
            waiting[role]?.removeFirst()
            let sent = dispatch(next)
            if sent.isEmpty { break }  // queued again: no replica holds its epoch
            actions += sent
        }
        return actions
    }

    /// Ends a job exactly once: removes it everywhere and answers its client.
    private mutating func end(_ id: JobID, with message: PipelineMessage, client: [UInt8], code: ErrorCode?) -> [GatewayAction] {
        guard let job = jobs.removeValue(forKey: id) else { return [] }
        if let holder = job.assignedTo { replicas[holder]?.assigned.remove(id) }
        waiting[configuration.roles[job.roleIndex]]?.removeAll { $0 == id }
        if let code { counters.countError(code) } else { counters.results += 1 }
        return [.toClient(identity: client, frames: message.frames)]
    }

    private mutating func refuse(_ identity: [UInt8], _ id: JobID, _ code: ErrorCode, _ text: String? = nil) -> [GatewayAction] {
        counters.countError(code)
        return [.toClient(identity: identity, frames: PipelineMessage.error(code, jobID: id, message: text).frames)]
    }
}

/// One live replica as the gateway sees it.
public struct ReplicaStatus: Sendable, Hashable, Codable {
    public var role: String
    public var replica: Int
    public var inFlight: Int
    public var capacity: Int
    public var lastSeen: UInt64
}

extension Duration {
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
