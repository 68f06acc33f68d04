import Foundation
import Sodium
import TimeUnits
public import Trust
public import Wire
import ZeroMQ

/// Submits jobs to a pipeline's front socket and opens their results.
///
/// Each job is sealed to the front role's key with a fresh reply key, so only this client can
/// open its result. Jobs are pipelined: all are sent, then answers are matched by job id.
/// Blocking and single-threaded (it owns a socket): use one per thread.
public final class PipelineClient {
    public private(set) var target: PipelineTarget
    private let context: ZMQContext
    private let socket: Socket

    public init(target: PipelineTarget) throws {
        self.target = target
        context = try ZMQContext()
        socket = try context.socket(.dealer)
        try socket.setSendHighWaterMark(100_000)
        try socket.setReceiveHighWaterMark(100_000)
        try socket.connect(target.frontEndpoint)
    }

    /// Seals later jobs to `newTarget`'s keys (a fresh manifest after a key rotation). A job
    /// already sent keeps the result signer of the target it was sealed for: role signing keys
    /// rotate with the key epoch, and its result is signed with its epoch's key.
    public func retarget(_ newTarget: PipelineTarget) throws {
        if newTarget.frontEndpoint != target.frontEndpoint {
            try socket.disconnect(target.frontEndpoint)
            try socket.connect(newTarget.frontEndpoint)
        }
        target = newTarget
    }

    /// A job in flight: what is needed to open and check its answer.
    public struct PendingJob: Sendable {
        public let id: JobID
        let replyKeys: BoxKeyPair
        /// The result signer of the epoch the job was sealed under.
        let resultSigner: (role: String, key: SigningPublicKey)
        public let sentAt: ContinuousClock.Instant
        /// For a job that asked for receipts: its pipeline, epoch and request digest.
        let receiptRequest: (pipelineID: String, epoch: UInt32, requestDigest: [UInt8])?
    }

    /// A job's answer: the result's body and, when asked for, the job's receipts.
    public struct JobOutput: Sendable {
        public var body: [UInt8]
        public var receipts: ReceiptFile?
    }

    /// The timeout of a job sent without one: the topologies' default deadline.
    public static let defaultTimeout: Duration = .seconds(30)

    /// Seals and sends one job; `timeout` is how long the client waits for it. The same timeout
    /// travels twice: in clear for the gateway, and sealed (as an absolute expiry) for the front
    /// stage, which refuses the request once it has expired, so it cannot be replayed later.
    ///
    /// With `receipts`, every stage adds a signed receipt and the result carries the chain
    /// (`JobOutput.receipts`), which `ReceiptVerifier` checks against the key broker's log.
    public func send(_ body: [UInt8], timeout: Duration? = nil, receipts: Bool = false) throws -> PendingJob {
        let id = JobID.random()
        let replyKeys = BoxKeyPair.generate()
        let milliseconds = UInt64(max(1, (timeout ?? Self.defaultTimeout).wholeMilliseconds))
        let expiresAt = UInt64(Date().timeIntervalSince1970 * 1000) + milliseconds
        let envelope = JobEnvelope(
            jobID: id, expiresAt: expiresAt, replyKey: replyKeys.publicKey.bytes, options: receipts ? .receipts : [],
            body: body)
        let sealed = try SealedBox.seal(envelope.encoded(), to: target.frontKey)
        let header = MessageHeader(type: .submit, epoch: target.epoch, jobID: id, deadline: milliseconds)
        try socket.send([header.encoded(), sealed])
        return PendingJob(
            id: id, replyKeys: replyKeys, resultSigner: target.resultSigner, sentAt: .now,
            receiptRequest: receipts
                ? (target.pipelineID, target.epoch, ReceiptDigest.of(body, replyKey: replyKeys.publicKey.bytes)) : nil)
    }

    /// Receives one answer (waiting at most `timeout`) and matches it to a pending job.
    /// Returns `nil` on timeout; answers for unknown jobs are skipped.
    public func receive(pending: [JobID: PendingJob], timeout: Duration) throws -> (
        JobID, Result<JobOutput, ClientError>
    )? {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero, let frames = try socket.receive(timeout: remaining) else { return nil }
            guard let message = try? PipelineMessage(frames: frames), let job = pending[message.header.jobID] else {
                continue
            }
            return (job.id, openOutput(message, for: job))
        }
    }

    /// Sends every body, waits for every answer (bounded by `timeout` overall), in input order.
    /// `refreshTarget`, if given, fetches a fresh verified target: jobs refused for an unknown
    /// key epoch (the pipeline rotated its keys meanwhile) are then sealed to the new epoch and
    /// sent once more (`RotationResend`: each job once, a refresh at most once a second).
    public func submit(
        _ bodies: [[UInt8]], timeout: Duration = .seconds(60), refreshTarget: (() throws -> PipelineTarget)? = nil
    ) throws -> [Result<[UInt8], ClientError>] {
        try submitJobs(bodies, timeout: timeout, refreshTarget: refreshTarget).map { $0.map(\.body) }
    }

    /// `submit`, answering each job with its body and — with `receipts` — its receipts.
    public func submitJobs(
        _ bodies: [[UInt8]], timeout: Duration = .seconds(60), receipts: Bool = false,
        refreshTarget: (() throws -> PipelineTarget)? = nil
    ) throws -> [Result<JobOutput, ClientError>] {
        var pending: [JobID: PendingJob] = [:]
        var order: [JobID] = []
        for body in bodies {
            let job = try send(body, timeout: timeout, receipts: receipts)
            pending[job.id] = job
            order.append(job.id)
        }
        var answers: [JobID: Result<JobOutput, ClientError>] = [:]
        var deadline = ContinuousClock.now + timeout + .seconds(1)
        // Jobs sent again under a fresh manifest: the original id (kept for the order) by the new one.
        var resentFor: [JobID: JobID] = [:]
        var rotation = RotationResend()
        while answers.count < order.count {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero, let (id, answer) = try receive(pending: pending, timeout: remaining) else { break }
            pending[id] = nil
            let original = resentFor[id] ?? id
            if let refreshTarget, RotationResend.callsForResend(answer, alreadyResent: resentFor[id] != nil) {
                if rotation.refreshFirst(at: .now), let fresh = try? refreshTarget() { try retarget(fresh) }
                if let index = order.firstIndex(of: original) {
                    let job = try send(bodies[index], timeout: timeout, receipts: receipts)
                    pending[job.id] = job
                    resentFor[job.id] = original
                    deadline = max(deadline, ContinuousClock.now + timeout + .seconds(1))
                    continue
                }
            }
            answers[original] = answer
        }
        return order.map { answers[$0] ?? .failure(.timedOut) }
    }

    /// Checks the last stage's signature, opens with the job's reply key, and checks the job id.
    public func open(_ message: PipelineMessage, for job: PendingJob) -> Result<[UInt8], ClientError> {
        openOutput(message, for: job).map(\.body)
    }

    /// `open`, with the job's receipts when it asked for them: a job that asked and got none, or
    /// a chain that does not decode, is refused.
    public func openOutput(_ message: PipelineMessage, for job: PendingJob) -> Result<JobOutput, ClientError> {
        switch message.header.type {
        case .error:
            var text = String(decoding: message.body[0], as: UTF8.self)
            // A stage may have sealed what was wrong with the input to this job's reply key.
            if !message.body[1].isEmpty, let detail = try? SealedBox.open(message.body[1], with: job.replyKeys) {
                text += " (detail: \(detail.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }))"
            }
            return .failure(.pipeline(code: message.header.code, message: text))
        case .result:
            let ciphertext = message.body[0]
            let signed = HopSignature.signedBytes(
                from: job.resultSigner.role, to: HopSignature.clientRole, header: message.header, ciphertext: ciphertext
            )
            guard job.resultSigner.key.isValidSignature(message.body[1], for: signed) else {
                return .failure(.badResultSignature)
            }
            guard let plaintext = try? SealedBox.open(ciphertext, with: job.replyKeys) else {
                return .failure(.couldNotOpen)
            }
            guard let result = try? plaintext.withUnsafeBytes({ try JobResult(decoding: Array($0)) }),
                result.jobID == job.id
            else {
                return .failure(.malformedAnswer("the sealed result does not name this job"))
            }
            guard let request = job.receiptRequest else { return .success(JobOutput(body: result.body)) }
            guard let chain = result.receipts else {
                return .failure(.malformedAnswer("receipts were asked for, and the result carries none"))
            }
            guard let receipts = try? ReceiptChain.decode(chain) else {
                return .failure(.malformedAnswer("the result's receipt chain does not decode"))
            }
            let file = ReceiptFile(
                pipelineID: request.pipelineID, jobID: job.id, epoch: request.epoch,
                requestDigest: request.requestDigest,
                resultDigest: ReceiptDigest.of(result.body, replyKey: job.replyKeys.publicKey.bytes), receipts: receipts
            )
            return .success(JobOutput(body: result.body, receipts: file))
        default:
            return .failure(.malformedAnswer("unexpected \(message.header.type) message"))
        }
    }
}
