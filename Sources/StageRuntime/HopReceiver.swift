public import Sodium
public import Wire

/// Checks and opens incoming hops: frame shape, hop, deadline, sender signature, replay,
/// epoch, the sealed box, and the binding of what is inside to the clear header and job table.
/// Pure apart from the clock value passed in; every refusal carries the wire code and a reason
/// that names the failed check and nothing of the payload.
///
/// The front stage takes `work` (one client's request, unsigned: clients are anonymous, so the
/// client's own sealed expiry bounds it); every other stage takes only `workBundle`, signed by
/// the role the topology routes from over every header field it acts on.
///
/// Replay: every accepted unit (request or bundle) is remembered by its id until the latest
/// time it could still be accepted — a request's sealed expiry, a bundle's signed deadline —
/// and neither may lie further ahead than `limits.maxDeadline` (plus the clock allowance). So
/// a captured hop is refused whatever hop number or deadline it is relabelled with, for as
/// long as it could otherwise be accepted, and the memory this takes is bounded.
public struct HopReceiver: Sendable {
    /// How far ahead deadlines and expiries may lie, and how many accepted units to remember.
    public struct Limits: Sendable, Equatable {
        /// The pipeline's longest deadline (the gateway's `maxDeadline`).
        public var maxDeadlineMilliseconds: UInt64
        /// Allowance for clocks that disagree (clients' and stages').
        public var clockAllowanceMilliseconds: UInt64
        /// Accepted units remembered at once; beyond it new hops are refused as `busy` rather
        /// than forgetting one that could still be replayed.
        public var maxRemembered: Int

        public init(
            maxDeadlineMilliseconds: UInt64, clockAllowanceMilliseconds: UInt64 = 60_000, maxRemembered: Int = 500_000
        ) {
            self.maxDeadlineMilliseconds = maxDeadlineMilliseconds
            self.clockAllowanceMilliseconds = clockAllowanceMilliseconds
            self.maxRemembered = maxRemembered
        }

        /// The latest deadline or expiry acceptable at `now`.
        func latestAcceptable(now: UInt64) -> UInt64 {
            now + maxDeadlineMilliseconds + clockAllowanceMilliseconds
        }
    }

    public private(set) var keys: StageKeys
    public let limits: Limits
    /// Ids of accepted units (requests and bundles), each with the time after which it can no
    /// longer be accepted anyway.
    private var seen: [JobID: UInt64] = [:]
    private var lastPurge: UInt64 = 0

    public init(keys: StageKeys, limits: Limits) {
        self.keys = keys
        self.limits = limits
    }

    /// Units remembered for replay protection.
    public var rememberedCount: Int { seen.count }

    /// Replaces the keys (after re-attestation for a new epoch).
    public mutating func update(keys: StageKeys) {
        self.keys = keys
    }

    /// One job of an accepted hop.
    public struct AcceptedJob: Sendable {
        public let jobID: JobID
        public let deadline: UInt64
        /// The client's sealed expiry, carried on to later stages.
        public let expiresAt: UInt64
        public let replyKey: [UInt8]
        /// The job's input: decrypted plaintext, so in secret memory, copied there straight from
        /// the secret memory the hop was opened into.
        public let body: SecureBytes
        /// What the client asked for (receipts), carried to every later stage.
        public let options: JobOptions
        /// The receipts of the stages before this one (an encoded `ReceiptChain`, or empty).
        public let receipts: [UInt8]

        public init(
            jobID: JobID, deadline: UInt64, expiresAt: UInt64, replyKey: [UInt8], body: SecureBytes,
            options: JobOptions = [], receipts: [UInt8] = []
        ) {
            self.jobID = jobID
            self.deadline = deadline
            self.expiresAt = expiresAt
            self.replyKey = replyKey
            self.body = body
            self.options = options
            self.receipts = receipts
        }

        /// The receipt digest of the job's input (`ReceiptDigest`), for a job that asked for receipts.
        public var inputDigest: [UInt8] {
            body.withUnsafeBytes { ReceiptDigest.of(raw: $0, replyKey: replyKey) }
        }
    }

    /// A hop that passed every check: one client request, or a bundle and its id.
    public struct Accepted: Sendable {
        /// The bundle id, or `nil` for a client's request (hop 0).
        public let bundleID: JobID?
        /// The key epoch it was sealed under.
        public let epoch: UInt32
        public let jobs: [AcceptedJob]
    }

    /// A refused hop.
    public struct Refusal: Error, Sendable, Equatable {
        public let code: ErrorCode
        public let reason: String
        /// The job or bundle, when the header decoded (so the gateway can end its jobs).
        public let jobID: JobID?
        /// Metric label for the check that failed.
        public let check: String
    }

    public mutating func receive(frames: [[UInt8]], now: UInt64) -> Result<Accepted, Refusal> {
        purgeExpired(now: now)
        let message: PipelineMessage
        do {
            message = try PipelineMessage(frames: frames)
        } catch {
            let jobID = frames.first.flatMap { try? MessageHeader(decoding: $0) }?.jobID
            return .failure(Refusal(code: .malformed, reason: "\(error)", jobID: jobID, check: "malformed"))
        }
        let header = message.header
        let expected: MessageType = keys.upstream == nil ? .work : .workBundle
        guard header.type == expected else {
            return .failure(
                Refusal(
                    code: .malformed, reason: "expected \(expected), got \(header.type)", jobID: header.jobID,
                    check: "malformed"))
        }
        guard header.hop == keys.position else {
            return .failure(
                Refusal(
                    code: .malformed, reason: "hop \(header.hop) is not this stage's (\(keys.position))",
                    jobID: header.jobID,
                    check: "hop"))
        }
        if let refusal = checkWindow(
            header.deadline, now: now, what: "the hop's deadline", check: "deadline", of: header)
        {
            return .failure(refusal)
        }
        guard seen.count < limits.maxRemembered else {
            return .failure(
                Refusal(
                    code: .busy, reason: "the stage remembers too many recent hops", jobID: header.jobID,
                    check: "replay-capacity"))
        }
        return header.type == .work ? receiveRequest(message, now: now) : receiveBundle(message)
    }

    /// Hop 0: one client's sealed `JobEnvelope`, whose job id must match the header's.
    private mutating func receiveRequest(_ message: PipelineMessage, now: UInt64) -> Result<Accepted, Refusal> {
        let header = message.header
        if let refusal = checkReplayAndEpoch(header) { return .failure(refusal) }
        let envelope: JobEnvelope.Parts<SecureBytes>
        let decode = { (raw: UnsafeRawBufferPointer) throws(WireError) in
            Self.secureParts(try JobEnvelope.parts(decoding: raw), of: raw)
        }
        switch open(message.body[0], header: header, decode: decode) {
        case .success(let decoded): envelope = decoded
        case .failure(let refusal): return .failure(refusal)
        }
        // The job id inside the box binds the ciphertext to its header: a sealed request cannot
        // be replayed under another job id.
        guard envelope.jobID == header.jobID else {
            return .failure(
                Refusal(
                    code: .malformed, reason: "the sealed job id does not match the header", jobID: header.jobID,
                    check: "binding"))
        }
        // The client's sealed expiry, not the gateway's clear deadline, bounds a replay.
        if let refusal = checkWindow(
            envelope.expiresAt, now: now, what: "the client's request expiry", check: "expiry", of: header)
        {
            return .failure(refusal)
        }
        seen[header.jobID] = envelope.expiresAt
        // The job keeps the gateway's deadline (it is what the gateway enforces, and what the last
        // stage signs for the client); the expiry served above to bound replays.
        let job = AcceptedJob(
            jobID: header.jobID, deadline: header.deadline, expiresAt: envelope.expiresAt,
            replyKey: envelope.replyKey, body: envelope.body, options: envelope.options)
        return .success(Accepted(bundleID: nil, epoch: header.epoch, jobs: [job]))
    }

    /// A bundle: signed by the upstream role over the header, the job table and the box's
    /// ephemeral key and tag (see `HopSignature`); the sealed jobs must be exactly the table's,
    /// in order. The signature is checked before the box is opened, and counts only together
    /// with a successful open.
    private mutating func receiveBundle(_ message: PipelineMessage) -> Result<Accepted, Refusal> {
        let header = message.header
        let (tableBytes, ciphertext, signature) = (message.body[0], message.body[1], message.body[2])
        let table: BundleTable
        do {
            table = try BundleTable(decoding: tableBytes)
        } catch {
            return .failure(Refusal(code: .malformed, reason: "\(error)", jobID: header.jobID, check: "malformed"))
        }
        guard let upstream = keys.upstream else {
            preconditionFailure("bundles go only to stages with an upstream role")
        }
        guard
            let signed = HopSignature.bundleSignedBytes(
                from: upstream.role, to: keys.role, receivingHop: keys.position, header: header, table: tableBytes,
                sealedBox: ciphertext)
        else {
            return .failure(
                Refusal(
                    code: .couldNotOpen, reason: "the sealed bundle is too short to be a sealed box",
                    jobID: header.jobID, check: "open"))
        }
        // Signing keys rotate with the epoch: the header's epoch (signed) picks the key. An epoch
        // whose grace is over has none: the job is refused as for an unknown epoch, which a
        // client answers by sealing it again under a fresh manifest.
        guard let signingKey = upstream.signingKeys[header.epoch] else {
            return .failure(
                Refusal(
                    code: .unknownEpoch, reason: "no signing key of \(upstream.role) for epoch \(header.epoch)",
                    jobID: header.jobID, check: "epoch"))
        }
        guard signingKey.isValidSignature(signature, for: signed) else {
            return .failure(
                Refusal(
                    code: .badSender,
                    reason: "the hop is not signed by \(upstream.role)'s key for epoch \(header.epoch), "
                        + "the role the topology routes from",
                    jobID: header.jobID, check: "sender"))
        }
        if let refusal = checkReplayAndEpoch(header) { return .failure(refusal) }
        let bundle: [JobEnvelope.Parts<SecureBytes>]
        let decode = { (raw: UnsafeRawBufferPointer) throws(WireError) in
            try BundleEnvelope.parts(decoding: raw).map { Self.secureParts($0, of: raw) }
        }
        switch open(ciphertext, header: header, decode: decode) {
        case .success(let decoded): bundle = decoded
        case .failure(let refusal): return .failure(refusal)
        }
        guard bundle.map(\.jobID) == table.entries.map(\.jobID) else {
            return .failure(
                Refusal(
                    code: .malformed, reason: "the sealed jobs do not match the bundle's job table",
                    jobID: header.jobID, check: "binding"
                ))
        }
        seen[header.jobID] = header.deadline
        let jobs = zip(bundle, table.entries).map { job, entry in
            AcceptedJob(
                jobID: job.jobID, deadline: entry.deadline, expiresAt: job.expiresAt, replyKey: job.replyKey,
                body: job.body, options: job.options, receipts: job.receipts)
        }
        return .success(Accepted(bundleID: header.jobID, epoch: header.epoch, jobs: jobs))
    }

    /// A deadline or expiry must lie ahead of `now`, and not beyond the pipeline's longest
    /// deadline (plus the clock allowance): what may be remembered for replay must end.
    private func checkWindow(_ time: UInt64, now: UInt64, what: String, check: String, of header: MessageHeader)
        -> Refusal?
    {
        if time <= now {
            return Refusal(code: .deadlineExceeded, reason: "\(what) has passed", jobID: header.jobID, check: check)
        }
        if time > limits.latestAcceptable(now: now) {
            return Refusal(
                code: .malformed, reason: "\(what) lies beyond the pipeline's longest deadline", jobID: header.jobID,
                check: check)
        }
        return nil
    }

    private func checkReplayAndEpoch(_ header: MessageHeader) -> Refusal? {
        guard seen[header.jobID] == nil else {
            return Refusal(
                code: .replayed, reason: "this hop was already accepted", jobID: header.jobID, check: "replay")
        }
        guard keys.boxKeys[header.epoch] != nil else {
            return Refusal(
                code: .unknownEpoch, reason: "no key for epoch \(header.epoch) (holding \(keys.epochs))",
                jobID: header.jobID,
                check: "epoch")
        }
        return nil
    }

    /// Opens `ciphertext` into secret memory and decodes it there: `decode` reads the plaintext in
    /// place and takes bodies out only into secret memory (`secureParts`), never into an array.
    private func open<Decoded>(
        _ ciphertext: [UInt8], header: MessageHeader, decode: (UnsafeRawBufferPointer) throws(WireError) -> Decoded
    ) -> Result<Decoded, Refusal> {
        let plaintext: SecureBytes
        do {
            plaintext = try SealedBox.open(ciphertext, with: keys.boxKeys[header.epoch]!)
        } catch {
            return .failure(Refusal(code: .couldNotOpen, reason: "could not open", jobID: header.jobID, check: "open"))
        }
        do {
            return .success(try plaintext.withUnsafeBytes(decode))
        } catch {
            return .failure(
                Refusal(
                    code: .malformed, reason: "the sealed envelope is malformed", jobID: header.jobID, check: "envelope"
                ))
        }
    }

    /// The envelope with its body copied from the opened plaintext into its own secret memory.
    private static func secureParts(_ parts: JobEnvelope.Parts<Range<Int>>, of plaintext: UnsafeRawBufferPointer)
        -> JobEnvelope.Parts<SecureBytes>
    {
        JobEnvelope.Parts(
            jobID: parts.jobID, expiresAt: parts.expiresAt, replyKey: parts.replyKey, options: parts.options,
            body: SecureBytes(copying: UnsafeRawBufferPointer(rebasing: plaintext[parts.body])),
            receipts: parts.receipts)
    }

    private mutating func purgeExpired(now: UInt64) {
        guard now >= lastPurge + 1000 else { return }
        lastPurge = now
        seen = seen.filter { $0.value > now }
    }
}
