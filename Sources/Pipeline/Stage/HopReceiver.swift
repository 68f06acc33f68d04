public import Sodium
public import Wire

/// Checks and opens incoming hops: frame shape, deadline, sender signature, replay, epoch,
/// and the sealed box. Pure apart from the clock value passed in; every refusal carries the
/// wire code and a reason that names the failed check and nothing of the payload.
public struct HopReceiver: Sendable {
    public private(set) var keys: StageKeys
    /// (job, hop) pairs already accepted, kept until their deadline passes.
    private var seen: [SeenHop: UInt64] = [:]
    private var lastPurge: UInt64 = 0

    struct SeenHop: Hashable {
        let job: JobID
        let hop: UInt16
    }

    public init(keys: StageKeys) {
        self.keys = keys
    }

    /// Replaces the keys (after re-attestation for a new epoch).
    public mutating func update(keys: StageKeys) {
        self.keys = keys
    }

    /// A hop that passed every check.
    public struct Accepted: Sendable {
        public let header: MessageHeader
        public let envelope: JobEnvelope
    }

    /// A refused hop.
    public struct Refusal: Error, Sendable, Equatable {
        public let code: ErrorCode
        public let reason: String
        /// The job, when the header decoded (so the gateway can end it).
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
        guard header.type == .work else {
            return .failure(Refusal(code: .malformed, reason: "expected work, got \(header.type)", jobID: header.jobID, check: "malformed"))
        }
        guard header.deadline > now else {
            return .failure(Refusal(code: .deadlineExceeded, reason: "the hop's deadline has passed", jobID: header.jobID, check: "deadline"))
        }
        let ciphertext = message.body[0]
        let signature = message.body[1]
        if let upstream = keys.upstream {
            let signed = HopSignature.signedBytes(from: upstream.role, to: keys.role, header: header, ciphertext: ciphertext)
            guard upstream.signingKey.isValidSignature(signature, for: signed) else {
                return .failure(
                    Refusal(
                        code: .badSender, reason: "the hop is not signed by \(upstream.role), the role the topology routes from",
                        jobID: header.jobID, check: "sender"))
            }
        }
        let seenKey = SeenHop(job: header.jobID, hop: header.hop)
        guard seen[seenKey] == nil else {
            return .failure(Refusal(code: .replayed, reason: "this hop was already accepted", jobID: header.jobID, check: "replay"))
        }
        guard let keyPair = keys.boxKeys[header.epoch] else {
            return .failure(
                Refusal(
                    code: .unknownEpoch, reason: "no key for epoch \(header.epoch) (holding \(keys.epochs))", jobID: header.jobID,
                    check: "epoch"))
        }
        let plaintext: SecureBytes
        do {
            plaintext = try SealedBox.open(ciphertext, with: keyPair)
        } catch {
            return .failure(Refusal(code: .couldNotOpen, reason: "could not open", jobID: header.jobID, check: "open"))
        }
        let envelope: JobEnvelope
        do {
            envelope = try plaintext.withUnsafeBytes { try JobEnvelope(decoding: Array($0)) }
        } catch {
            return .failure(Refusal(code: .malformed, reason: "the sealed envelope is malformed", jobID: header.jobID, check: "envelope"))
        }
        // The job id inside the box binds the ciphertext to its header: a sealed request cannot
        // be replayed under another job id.
        guard envelope.jobID == header.jobID else {
            return .failure(
                Refusal(code: .malformed, reason: "the sealed job id does not match the header", jobID: header.jobID, check: "binding"))
        }
        seen[seenKey] = header.deadline
        return .success(Accepted(header: header, envelope: envelope))
    }

    private mutating func purgeExpired(now: UInt64) {
        guard now >= lastPurge + 1000 else { return }
        lastPurge = now
        seen = seen.filter { $0.value > now }
    }
}
