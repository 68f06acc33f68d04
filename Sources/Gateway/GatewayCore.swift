import TimeUnits
import Wire

/// The gateway's state machine: accepts sealed jobs from clients, dispatches each hop to a
/// ready replica of the next role, retries hops whose replica died, enforces deadlines, and
/// ends every accepted job with exactly one result or one error.
///
/// A job enters alone (hop 0, the client's request); each stage seals the outputs of a batch
/// it computed together as one bundle for the next role, and the last stage answers each job
/// with its own result. The gateway tracks each job's current unit from the bundle's clear
/// job table.
///
/// A value with no I/O: each event returns the messages to send. Time is Unix milliseconds,
/// passed in, so tests drive it. It never sees a key: everything it routes is ciphertext plus
/// the header.
///
/// Only a proven peer is a replica: one whose announcement carries the key broker's certificate
/// for its role and is signed for its connection (`ReplicaTrust`). Until then the peer gets no
/// job, and its results, bundles and rejections are dropped and counted (`unproven_peer`).
public struct GatewayCore: Sendable {
    public let configuration: GatewayConfiguration
    public private(set) var counters = GatewayCounters()
    public private(set) var isDraining = false

    private var replicas: [[UInt8]: Replica] = [:]
    private var jobs: [JobID: Job] = [:]
    /// What travels between roles: a client's single request (hop 0), then bundles of jobs.
    /// Keyed by the job id for a request and by the bundle id for a bundle.
    private var units: [JobID: Unit] = [:]
    /// Units waiting for a replica of each role, oldest first.
    private var waiting: [String: [JobID]] = [:]
    /// Requests waiting under the next key epoch, not yet taken by a front replica: held apart
    /// from `maxInFlight`, in a quota of their own and only briefly.
    private var ahead: Set<JobID> = []
    /// The last announcement time of each replica buried within `ReplicaTrust.maxAge`: a
    /// captured announcement replayed under a dead replica's routing identity is no newer, so it
    /// is refused. Older entries go (their announcements are stale anyway), so it stays bounded.
    private var buried: [[UInt8]: UInt64] = [:]
    /// Jobs counted toward each client's share (`maxInFlightPerClient`), by routing identity, and
    /// toward each peer address's (`maxInFlightPerAddress`). A job is counted exactly when it
    /// counts toward `maxInFlight` (accepted and not waiting under the next epoch); entries at
    /// zero are removed, so both stay as small as the jobs in flight.
    private var inFlightByClient: [[UInt8]: Int] = [:]
    private var inFlightByAddress: [String: Int] = [:]

    struct Replica {
        let identity: [UInt8]
        var announcement: ReplicaAnnouncement
        var lastSeen: UInt64
        /// When its certificate ends: it is buried then unless a newer one came.
        var certifiedUntil: UInt64
        var assigned: Set<JobID> = []
        /// Jobs held, counted by the size of each unit when it was sent.
        var load = 0
        var hasRoom: Bool { load < Int(announcement.capacity) }
    }

    struct Job {
        let client: [UInt8]
        /// The client's peer address, if the transport knows it.
        let address: String?
        let deadline: UInt64
        /// The unit carrying the job now.
        var unit: JobID
        /// For a request under the next epoch: when it ends unless a front replica took it.
        var holdUntil: UInt64?
        /// Counted in `inFlightByClient` and `inFlightByAddress`.
        var shared = false
    }

    /// One sealed hop on its way: a client's request (its id is the job's) or a bundle (its id
    /// chosen at random by the stage that made it). Dispatched, and retried, as a whole.
    struct Unit {
        let id: JobID
        /// Index into `configuration.roles` of the role that must process it.
        var roleIndex: Int
        /// The message to (re)dispatch: `work` or `workBundle`.
        var message: PipelineMessage
        /// Jobs in it that have not ended.
        var jobs: Set<JobID>
        /// Jobs it carries, ended or not: what the holding replica works on.
        var size: Int
        var assignedTo: [UInt8]?
        var attempts = 0
    }

    public init(configuration: GatewayConfiguration) {
        self.configuration = configuration
    }

    /// Jobs accepted and not yet ended.
    public var jobsInFlight: Int { jobs.count }
    /// Whether the backend peer `identity` is a proven replica now.
    public func isReplica(_ identity: [UInt8]) -> Bool { replicas[identity] != nil }
    /// Of those, requests waiting under the next key epoch (their own quota, `maxAheadOfEpoch`).
    public var jobsAheadOfEpoch: Int { ahead.count }
    /// Clients and peer addresses with jobs counted toward their shares: never more than the
    /// jobs in flight.
    var shareTableSizes: (clients: Int, addresses: Int) { (inFlightByClient.count, inFlightByAddress.count) }
    /// True once draining and every accepted job has ended.
    public var isDrained: Bool { isDraining && jobs.isEmpty }

    /// A snapshot of each live replica, for status and metrics.
    public var replicaStatus: [ReplicaStatus] {
        replicas.values.map {
            ReplicaStatus(
                role: $0.announcement.role, replica: Int($0.announcement.replica), inFlight: $0.load,
                capacity: Int($0.announcement.capacity), lastSeen: $0.lastSeen)
        }.sorted { ($0.role, $0.replica) < ($1.role, $1.replica) }
    }

    /// Jobs queued for each role because no replica had room.
    public var queueDepths: [String: Int] {
        waiting.mapValues { ids in ids.reduce(0) { $0 + (units[$1]?.jobs.count ?? 0) } }
    }

    // MARK: Events

    /// A message from a client on the front socket. `identity` is its connection's routing
    /// identity; `peerAddress` the address it connects from (`nil` or empty when the transport
    /// cannot tell, as for `inproc://`: then only the per-client share applies).
    public mutating func clientMessage(identity: [UInt8], frames: [[UInt8]], peerAddress: String?, now: UInt64)
        -> [GatewayAction]
    {
        counters.requests += 1
        let message: PipelineMessage
        do {
            message = try PipelineMessage(frames: frames)
        } catch {
            // Answer with the job id if the header at least decoded, so the client can match it.
            let jobID =
                frames.first.flatMap { try? MessageHeader(decoding: $0) }?.jobID ?? JobID(
                    bytes: Array(repeating: 0, count: 16))!
            let code: ErrorCode = if case .unsupportedVersion = error { .unsupportedVersion } else { .malformed }
            return refuse(identity, jobID, code, "\(code.defaultMessage): \(error)")
        }
        let header = message.header
        guard header.type == .submit else {
            return refuse(
                identity, header.jobID, .malformed, "clients may only send submit messages, not \(header.type)")
        }
        let sealed = message.body[0]
        guard sealed.count <= configuration.maxPayloadBytes else {
            return refuse(
                identity, header.jobID, .tooLarge,
                "the sealed request is \(sealed.count) bytes; the limit is \(configuration.maxPayloadBytes)")
        }
        guard !sealed.isEmpty else { return refuse(identity, header.jobID, .malformed, "the sealed request is empty") }
        guard !isDraining else { return refuse(identity, header.jobID, .shuttingDown) }
        guard jobs[header.jobID] == nil, units[header.jobID] == nil else {
            return refuse(identity, header.jobID, .duplicateJob)
        }
        if let reason = frontEpochProblem(header.epoch) { return refuse(identity, header.jobID, .unknownEpoch, reason) }
        let isAhead = isAheadOfFront(header.epoch)
        let address = peerAddress.flatMap { $0.isEmpty ? nil : $0 }
        if isAhead {
            guard ahead.count < configuration.maxAheadOfEpoch else {
                let text = "\(ahead.count) requests already wait for key epoch \(header.epoch) to reach the front stage"
                return refuse(identity, header.jobID, .busy, text + "; retry shortly")
            }
        } else {
            // Requests under the next epoch are not counted toward the shares while they wait:
            // their own small quota bounds them. They are counted once the front takes them up.
            let client = inFlightByClient[identity, default: 0]
            guard client < configuration.maxInFlightPerClient else {
                counters.countShareRefusal("client")
                let text = "this connection already has \(client) jobs in flight; the gateway allows "
                return refuse(identity, header.jobID, .busy, text + "\(configuration.maxInFlightPerClient) per client")
            }
            if let address {
                let fromAddress = inFlightByAddress[address, default: 0]
                guard fromAddress < configuration.maxInFlightPerAddress else {
                    counters.countShareRefusal("address")
                    let text = "connections from this address already have \(fromAddress) jobs in flight; the gateway "
                    return refuse(
                        identity, header.jobID, .busy,
                        text + "allows \(configuration.maxInFlightPerAddress) per address")
                }
            }
            guard jobs.count - ahead.count < configuration.maxInFlight else {
                return refuse(identity, header.jobID, .busy)
            }
        }

        let requested =
            header.deadline == 0 ? configuration.defaultDeadline : .milliseconds(Int64(clamping: header.deadline))
        let timeout = min(requested, configuration.maxDeadline)
        let deadline = now + UInt64(timeout.wholeMilliseconds)
        let hopHeader = MessageHeader(type: .work, epoch: header.epoch, jobID: header.jobID, deadline: deadline, hop: 0)
        let holdUntil = isAhead ? now + UInt64(configuration.aheadOfEpochHold.wholeMilliseconds) : nil
        jobs[header.jobID] = Job(
            client: identity, address: address, deadline: deadline, unit: header.jobID, holdUntil: holdUntil)
        if isAhead { ahead.insert(header.jobID) } else { countShares(of: header.jobID) }
        units[header.jobID] = Unit(
            id: header.jobID, roleIndex: 0, message: PipelineMessage(header: hopHeader, body: [sealed, []]),
            jobs: [header.jobID],
            size: 1)
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
        switch message.header.type {
        case .ready, .heartbeat:
            return announce(identity: identity, body: message.body[0], now: now)
        case .submit, .result, .error, .work, .workBundle:
            counters.countDrop("unexpected_type")
            return []
        case .forward, .forwardBundle, .reject:
            guard replicas[identity] != nil else {
                counters.countDrop("unproven_peer")
                return []
            }
            replicas[identity]?.lastSeen = now
        }
        switch message.header.type {
        case .forward:
            return result(from: identity, message: message)
        case .forwardBundle:
            return forwardBundle(from: identity, message: message)
        case .reject:
            return rejected(by: identity, message: message)
        default:
            return []
        }
    }

    /// A message over its socket's frame or byte bound, drained unread by the service: it is
    /// counted, and nothing else changes.
    public mutating func discardedMessage(fromClient: Bool) {
        counters.discarded[fromClient ? "front" : "backend", default: 0] += 1
    }

    /// A client connection the front closed for `reason` (a protocol violation or a bound): it
    /// is counted; its jobs in flight go on, and their answers are dropped if it is gone.
    public mutating func closedClient(reason: String) {
        counters.clientsClosed[reason, default: 0] += 1
    }

    /// A connection to the backend the gateway closed for `reason` (a protocol violation or a
    /// bound): counted as a dropped replica message `closed_REASON`. A proven replica on it is
    /// buried when its heartbeats stop, as for any lost connection.
    public mutating func closedReplicaConnection(reason: String) {
        counters.countDrop("closed_\(reason)")
    }

    /// Time passed: ends overdue jobs and requests held too long for the next epoch, buries
    /// silent replicas and retries their hops.
    public mutating func tick(now: UInt64) -> [GatewayAction] {
        var actions: [GatewayAction] = []
        let timeout = UInt64(configuration.replicaTimeout.wholeMilliseconds)
        for (identity, replica) in replicas where now > replica.lastSeen + timeout || now > replica.certifiedUntil {
            actions += bury(identity)
        }
        for id in ahead {
            guard let job = jobs[id], let holdUntil = job.holdUntil, now >= holdUntil else { continue }
            let epoch = units[job.unit].map { String($0.message.header.epoch) } ?? "?"
            let held = configuration.aheadOfEpochHold.wholeMilliseconds
            let text = "no front replica took up key epoch \(epoch) within \(held) ms; fetch a fresh manifest"
            let message = PipelineMessage.error(.unknownEpoch, jobID: id, message: text)
            actions += end(id, with: message, code: .unknownEpoch)
        }
        let window = UInt64(max(0, configuration.replicaTrust.maxAge.wholeMilliseconds))
        buried = buried.filter { $0.value + window >= now }
        for (id, job) in jobs where now >= job.deadline {
            actions += end(id, with: PipelineMessage.error(.deadlineExceeded, jobID: id), code: .deadlineExceeded)
        }
        return actions
    }

    /// Stop accepting jobs; those in flight go on to their end.
    public mutating func beginDraining() {
        isDraining = true
    }

    // MARK: Replicas

    /// A `ready` or `heartbeat`: counts only once proven (see `ReplicaTrust`). A refused one
    /// changes nothing, not even when the peer was last seen.
    private mutating func announce(identity: [UInt8], body: [UInt8], now: UInt64) -> [GatewayAction] {
        guard let announcement = try? ReplicaAnnouncement(decoding: body) else {
            counters.countRefusedAnnouncement("malformed_announcement")
            return []
        }
        guard configuration.roles.contains(announcement.role) else {
            counters.countRefusedAnnouncement("unknown_role")
            return []
        }
        let certificate: RoleCertificate
        switch configuration.replicaTrust.verify(announcement, routingID: identity, now: now) {
        case .success(let verified): certificate = verified
        case .failure(let refusal):
            counters.countRefusedAnnouncement(refusal.check)
            return []
        }
        if var known = replicas[identity] {
            // A replica keeps its role; and an older announcement from it is a replay (it could
            // bring back epochs or capacity the replica no longer has).
            guard known.announcement.role == announcement.role else {
                counters.countRefusedAnnouncement("role_changed")
                return []
            }
            guard announcement.timestamp > known.announcement.timestamp else {
                counters.countRefusedAnnouncement("replayed_announcement")
                return []
            }
            known.announcement = announcement
            known.lastSeen = now
            known.certifiedUntil = certificate.notAfter
            replicas[identity] = known
        } else {
            if let last = buried[identity], announcement.timestamp <= last {
                counters.countRefusedAnnouncement("replayed_announcement")
                return []
            }
            buried[identity] = nil
            replicas[identity] = Replica(
                identity: identity, announcement: announcement, lastSeen: now, certifiedUntil: certificate.notAfter)
        }
        let isFront = announcement.role == configuration.roles[0]
        let stale = isFront ? refuseStaleRequests() : refuseStaleUnits(role: announcement.role)
        return stale + pump(role: announcement.role)
    }

    private mutating func bury(_ identity: [UInt8]) -> [GatewayAction] {
        guard let replica = replicas.removeValue(forKey: identity) else { return [] }
        counters.replicasLost += 1
        buried[identity] = replica.announcement.timestamp
        var actions: [GatewayAction] = []
        for id in replica.assigned {
            guard var unit = units[id] else { continue }
            unit.assignedTo = nil
            units[id] = unit
            if unit.attempts >= configuration.maxAttempts {
                let text = "replicas of \(replica.announcement.role) died \(unit.attempts) times while holding the job"
                for job in unit.jobs {
                    actions += end(
                        job, with: PipelineMessage.error(.stageFailed, jobID: job, message: text), code: .stageFailed)
                }
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

    /// Why a request sealed under `epoch` cannot be served, or nil. A client whose manifest was
    /// fetched just after a rotation is one epoch ahead of the front replicas for the moment they
    /// take to attest again: its job waits for them (at most until its deadline). Older epochs,
    /// or ones further ahead, are refused. With no front replica known yet, any epoch waits.
    private func frontEpochProblem(_ epoch: UInt32) -> String? {
        let held = knownEpochs(of: configuration.roles[0])
        let isNext = held.max().map { UInt64(epoch) == UInt64($0) + 1 } ?? false
        guard held.isEmpty || held.contains(epoch) || isNext else {
            return
                "key epoch \(epoch) is not held by the front stage (it holds \(held.sorted())); fetch a fresh manifest"
        }
        return nil
    }

    /// True when front replicas are known and none can open `epoch` yet (the next epoch, which
    /// `frontEpochProblem` lets wait).
    private func isAheadOfFront(_ epoch: UInt32) -> Bool {
        let front = replicas.values.filter { $0.announcement.role == configuration.roles[0] }
        let canOpen = front.contains { $0.announcement.epochs.isEmpty || $0.announcement.epochs.contains(epoch) }
        return !front.isEmpty && !canOpen
    }

    /// After the front replicas announced their epochs: requests waiting under an epoch they
    /// will not hold end now with `unknownEpoch`, not at their deadline.
    private mutating func refuseStaleRequests() -> [GatewayAction] {
        var actions: [GatewayAction] = []
        for id in waiting[configuration.roles[0]] ?? [] {
            guard let unit = units[id], unit.roleIndex == 0, let reason = frontEpochProblem(unit.message.header.epoch)
            else { continue }
            for job in unit.jobs {
                actions += end(
                    job, with: PipelineMessage.error(.unknownEpoch, jobID: job, message: reason), code: .unknownEpoch)
            }
        }
        return actions
    }

    /// After replicas of a later role announced their epochs: a unit waiting for that role
    /// under an epoch older than every one they hold will never be taken (a job keeps its epoch
    /// from stage to stage, and that epoch's grace is over). Its jobs end now with
    /// `unknownEpoch`, which a client answers by sealing them again, not at their deadline.
    private mutating func refuseStaleUnits(role: String) -> [GatewayAction] {
        guard let oldestHeld = knownEpochs(of: role).min() else { return [] }
        var actions: [GatewayAction] = []
        for id in waiting[role] ?? [] {
            guard let unit = units[id], unit.message.header.epoch < oldestHeld else { continue }
            let reason = "key epoch \(unit.message.header.epoch) ended while the job was in flight; seal it again"
            for job in unit.jobs {
                let message = PipelineMessage.error(.unknownEpoch, jobID: job, message: reason)
                actions += end(job, with: message, code: .unknownEpoch)
            }
        }
        return actions
    }

    // MARK: Jobs

    /// The last stage's result for one job: goes to the job's client.
    private mutating func result(from identity: [UInt8], message: PipelineMessage) -> [GatewayAction] {
        let id = message.header.jobID
        // Only the replica holding the job, at the last role, may end it: late or forged results are dropped.
        guard let job = jobs[id], let unit = units[job.unit], unit.assignedTo == identity,
            unit.roleIndex == configuration.roles.count - 1
        else {
            counters.countDrop("unexpected_forward")
            return []
        }
        var header = message.header
        header.type = .result
        header.deadline = job.deadline
        let role = replicas[identity]?.announcement.role
        let actions = end(id, with: PipelineMessage(header: header, body: message.body), code: nil)
        return actions + (role.map { pump(role: $0) } ?? [])
    }

    /// A stage's sealed outputs for a batch of jobs: moves those jobs on to the next role as one
    /// unit. Every unit it drew from is retired: a stage computes whole units, so a job of one
    /// that is neither in the bundle nor already rejected has failed there.
    private mutating func forwardBundle(from identity: [UInt8], message: PipelineMessage) -> [GatewayAction] {
        guard let table = try? BundleTable(decoding: message.body[0]) else {
            counters.countDrop("malformed_bundle")
            return []
        }
        let bundleID = message.header.jobID
        // Jobs the sender really holds, at a role that has a next one. Others (ended, or never
        // its) still ride inside the sealed bundle but are not tracked: their outputs are dropped.
        let moving = table.entries.map(\.jobID).filter { id in
            guard let job = jobs[id], let unit = units[job.unit] else { return false }
            return unit.assignedTo == identity && unit.roleIndex < configuration.roles.count - 1
        }
        guard let first = moving.first, let fromRole = units[jobs[first]!.unit]?.roleIndex, units[bundleID] == nil
        else {
            counters.countDrop("unexpected_forward")
            return []
        }
        var actions: [GatewayAction] = []
        let sources = Set(moving.compactMap { jobs[$0]?.unit })
        let movingSet = Set(moving)
        for source in sources {
            guard let unit = units[source] else { continue }
            for id in unit.jobs.subtracting(movingSet) {
                actions += end(
                    id,
                    with: PipelineMessage.error(
                        .stageFailed, jobID: id, message: "the stage left the job out of its output"),
                    code: .stageFailed)
            }
            release(source)
        }
        var header = message.header
        header.type = .workBundle
        header.hop = UInt16(fromRole + 1)
        units[bundleID] = Unit(
            id: bundleID, roleIndex: fromRole + 1, message: PipelineMessage(header: header, body: message.body),
            jobs: movingSet, size: table.entries.count)
        for id in moving { jobs[id]?.unit = bundleID }
        actions += dispatch(bundleID)
        if let role = replicas[identity]?.announcement.role { actions += pump(role: role) }
        return actions
    }

    /// The largest sealed detail relayed to a client (a sealed box of a short text).
    static let maxSealedDetailBytes = 2048

    /// A stage refused a whole unit (its id in the header) or one job of a unit it holds.
    private mutating func rejected(by identity: [UInt8], message: PipelineMessage) -> [GatewayAction] {
        let id = message.header.jobID
        let refused: [JobID]
        if let unit = units[id], unit.assignedTo == identity {
            refused = Array(unit.jobs)
        } else if let job = jobs[id], units[job.unit]?.assignedTo == identity {
            refused = [id]
        } else {
            counters.countDrop("unexpected_reject")
            return []
        }
        let code = ErrorCode(rawValue: message.header.code) ?? .stageFailed
        let role = replicas[identity]?.announcement.role ?? "a stage"
        let reason = String(decoding: message.body[0].prefix(512), as: UTF8.self)
        let text = "\(role) refused the job: \(reason.isEmpty ? code.defaultMessage : reason)"
        // A detail sealed to one job's client travels on to that client only, and only if small.
        let sealedDetail =
            refused.count == 1 && message.body[1].count <= Self.maxSealedDetailBytes ? message.body[1] : []
        var actions: [GatewayAction] = []
        for job in refused {
            actions += end(
                job, with: PipelineMessage.error(code, jobID: job, message: text, sealedDetail: sealedDetail),
                code: code)
        }
        if units[id]?.assignedTo == identity { release(id) }
        return actions + pump(role: role)
    }

    /// Sends a unit to the least-loaded live replica of its role that holds its epoch, or queues it.
    private mutating func dispatch(_ id: JobID) -> [GatewayAction] {
        if let sent = place(id) { return [sent] }
        if let unit = units[id] {
            let role = configuration.roles[unit.roleIndex]
            if !(waiting[role]?.contains(id) ?? false) { waiting[role, default: []].append(id) }
        }
        return []
    }

    /// Assigns a unit to a replica with room that holds its epoch; `nil` if there is none.
    private mutating func place(_ id: JobID) -> GatewayAction? {
        guard var unit = units[id] else { return nil }
        let role = configuration.roles[unit.roleIndex]
        let epoch = unit.message.header.epoch
        let candidates = replicas.values.filter {
            $0.announcement.role == role && $0.hasRoom
                && ($0.announcement.epochs.isEmpty || $0.announcement.epochs.contains(epoch))
        }
        guard let chosen = candidates.min(by: { $0.load < $1.load }) else { return nil }
        unit.assignedTo = chosen.identity
        unit.attempts += 1
        units[id] = unit
        if unit.roleIndex == 0, ahead.remove(id) != nil {
            jobs[id]?.holdUntil = nil
            countShares(of: id)
        }
        replicas[chosen.identity]?.assigned.insert(id)
        replicas[chosen.identity]?.load += unit.size
        return .toReplica(identity: chosen.identity, frames: unit.message.frames)
    }

    /// Dispatches queued units of `role`, oldest first, while its replicas have room. A unit no
    /// replica can take yet (its epoch not announced) keeps its place without holding up the rest.
    private mutating func pump(role: String) -> [GatewayAction] {
        guard let queue = waiting[role], !queue.isEmpty else { return [] }
        var actions: [GatewayAction] = []
        var remaining: [JobID] = []
        for (index, id) in queue.enumerated() where units[id] != nil {
            guard replicas.values.contains(where: { $0.announcement.role == role && $0.hasRoom }) else {
                remaining += queue[index...].filter { units[$0] != nil }
                break
            }
            if let sent = place(id) { actions.append(sent) } else { remaining.append(id) }
        }
        waiting[role] = remaining
        return actions
    }

    /// Forgets a unit: frees its replica's room and takes it off the queue.
    private mutating func release(_ id: JobID) {
        guard let unit = units.removeValue(forKey: id) else { return }
        if let holder = unit.assignedTo, replicas[holder] != nil {
            replicas[holder]?.assigned.remove(id)
            replicas[holder]?.load -= unit.size
        }
        waiting[configuration.roles[unit.roleIndex]]?.removeAll { $0 == id }
    }

    /// Ends a job exactly once: removes it everywhere and answers its client.
    private mutating func end(_ id: JobID, with message: PipelineMessage, code: ErrorCode?) -> [GatewayAction] {
        guard let job = jobs.removeValue(forKey: id) else { return [] }
        ahead.remove(id)
        if job.shared {
            Self.decrement(&inFlightByClient, job.client)
            if let address = job.address { Self.decrement(&inFlightByAddress, address) }
        }
        if var unit = units[job.unit] {
            unit.jobs.remove(id)
            units[job.unit] = unit
            if unit.jobs.isEmpty { release(job.unit) }
        }
        if let code { counters.countError(code) } else { counters.results += 1 }
        return [.toClient(identity: job.client, frames: message.frames)]
    }

    /// Counts a job toward its client's and its address's shares, once.
    private mutating func countShares(of id: JobID) {
        guard let job = jobs[id], !job.shared else { return }
        jobs[id]?.shared = true
        inFlightByClient[job.client, default: 0] += 1
        if let address = job.address { inFlightByAddress[address, default: 0] += 1 }
    }

    /// Takes one from a count, removing the entry at zero so the table holds only live keys.
    private static func decrement<Key: Hashable>(_ counts: inout [Key: Int], _ key: Key) {
        guard let count = counts[key] else { return }
        if count > 1 { counts[key] = count - 1 } else { counts.removeValue(forKey: key) }
    }

    private mutating func refuse(_ identity: [UInt8], _ id: JobID, _ code: ErrorCode, _ text: String? = nil)
        -> [GatewayAction]
    {
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
