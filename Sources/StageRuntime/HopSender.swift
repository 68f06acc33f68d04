import Foundation
public import Sodium
public import Wire

/// Seals and signs a stage's outputs: as one bundle to the next role's key of the jobs' epoch,
/// or — from the last stage — each job's result to its client's reply key. Either is signed
/// with this role's key of that epoch.
public struct HopSender: Sendable {
    public let keys: StageKeys
    /// This replica's number, named in its receipts.
    public let replica: UInt16

    /// The stage holds no key of `what` for the epoch its jobs travel under.
    public struct MissingKey: Error, Sendable, CustomStringConvertible {
        public let what: String
        public let epoch: UInt32
        public var description: String { "no \(what) for epoch \(epoch)" }
    }

    public init(keys: StageKeys, replica: UInt16 = 0) {
        self.keys = keys
        self.replica = replica
    }

    /// True when this stage seals results to clients instead of bundles to a next role.
    public var isLast: Bool { keys.downstream == nil }

    /// The `forwardBundle` carrying `outputs` to the next role under `bundleID`, sealed under
    /// `epoch`: one seal and one signature for all of them.
    public func bundle(
        id bundleID: JobID, epoch: UInt32, outputs: [(job: HopReceiver.AcceptedJob, output: SecureBytes)]
    ) throws -> PipelineMessage {
        guard let downstream = keys.downstream else { preconditionFailure("the last stage sends results, not bundles") }
        guard let boxKey = downstream.boxKeys[epoch] else {
            throw MissingKey(what: "box key of \(downstream.role)", epoch: epoch)
        }
        guard let signing = keys.signing[epoch] else {
            throw MissingKey(what: "signing key of \(keys.role)", epoch: epoch)
        }
        let table = BundleTable(entries: outputs.map { .init(jobID: $0.job.jobID, deadline: $0.job.deadline) })
        let jobs = try outputs.map {
            JobEnvelope.Parts(
                jobID: $0.job.jobID, expiresAt: $0.job.expiresAt, replyKey: $0.job.replyKey, options: $0.job.options,
                body: $0.output, receipts: try receipts(for: $0.job, output: $0.output, epoch: epoch, signing: signing))
        }
        let plaintext = SecureBytes.encoding(
            count: BundleEnvelope.encodedCount(sizes: jobs.map { (body: $0.body.count, receipts: $0.receipts.count) })
        ) {
            BundleEnvelope.encode(jobs, into: &$0)
        }
        let ciphertext = try SealedBox.seal(plaintext, to: boxKey)
        let header = MessageHeader(type: .forwardBundle, epoch: epoch, jobID: bundleID, deadline: table.latestDeadline)
        let tableBytes = table.encoded()
        // A sealed box is never shorter than its 48 bytes of overhead.
        let signed = HopSignature.bundleSignedBytes(
            from: keys.role, to: downstream.role, receivingHop: keys.position + 1, header: header, table: tableBytes,
            sealedBox: ciphertext)!
        let signature = signing.signature(for: signed)
        return PipelineMessage(header: header, body: [tableBytes, ciphertext, signature])
    }

    /// The `forward` carrying one job's result, sealed to the client's reply key and signed for
    /// the client with this role's key of `epoch` (the manifest's result signer for that epoch).
    /// Throws when the reply key is not a usable key.
    public func result(output: SecureBytes, for job: HopReceiver.AcceptedJob, epoch: UInt32) throws -> PipelineMessage {
        guard let signing = keys.signing[epoch] else {
            throw MissingKey(what: "signing key of \(keys.role)", epoch: epoch)
        }
        let replyKey = try BoxPublicKey(bytes: job.replyKey)
        let chain =
            job.options.contains(.receipts)
            ? try receipts(for: job, output: output, epoch: epoch, signing: signing) : nil
        let plaintext = SecureBytes.encoding(
            count: JobResult.encodedCount(bodyCount: output.count, receiptCount: chain?.count)
        ) {
            JobResult.encode(jobID: job.jobID, body: output, receipts: chain, into: &$0)
        }
        let ciphertext = try SealedBox.seal(plaintext, to: replyKey)
        let header = MessageHeader(type: .forward, epoch: epoch, jobID: job.jobID, deadline: job.deadline)
        let signature = signing.signature(
            for: HopSignature.signedBytes(
                from: keys.role, to: HopSignature.clientRole, header: header, ciphertext: ciphertext))
        return PipelineMessage(header: header, body: [ciphertext, signature])
    }

    /// The job's receipt chain with this stage's receipt appended, for a job that asked for
    /// receipts (empty otherwise): what it took in and gave out (`ReceiptDigest`), under which
    /// epoch, with the keys of which logged release and which model shard, signed with this
    /// role's key of the epoch.
    func receipts(for job: HopReceiver.AcceptedJob, output: SecureBytes, epoch: UInt32, signing: SigningKeyPair)
        throws(WireError) -> [UInt8]
    {
        guard job.options.contains(.receipts) else { return [] }
        let context = keys.receiptContext
        var receipt = StageReceipt(
            role: keys.role, replica: replica, epoch: epoch, releaseIndex: context.releaseIndex,
            shardDigest: context.shardDigest, inputDigest: job.inputDigest,
            outputDigest: output.withUnsafeBytes { ReceiptDigest.of(raw: $0, replyKey: job.replyKey) },
            time: UInt64(max(0, Date().timeIntervalSince1970 * 1000)))
        receipt.signature = signing.signature(
            for: receipt.signedBytes(pipelineID: context.pipelineID, jobID: job.jobID))
        return try ReceiptChain.appending(receipt, to: job.receipts)
    }

    /// A `reject` telling the gateway to end a job, or every job of a bundle, with `code`.
    /// `reason` travels in clear: it must come from checks on clear headers, never from a job's
    /// data (see `failure(of:detail:code:)` for that).
    public static func reject(jobID: JobID, code: ErrorCode, reason: String) -> PipelineMessage {
        PipelineMessage(
            header: MessageHeader(type: .reject, code: code.rawValue, jobID: jobID), body: [Array(reason.utf8), []])
    }

    /// A `reject` for one job whose input the workload could not use: in clear only the code and
    /// its standard message; the workload's detail sealed to the job's reply key (or dropped, if
    /// that key is unusable), so the gateway and the network learn nothing of the input.
    public static func failure(of job: HopReceiver.AcceptedJob, detail: String, code: ErrorCode = .stageFailed)
        -> PipelineMessage
    {
        let sealed = (try? BoxPublicKey(bytes: job.replyKey)).flatMap {
            try? SealedBox.seal(Array(detail.utf8), to: $0)
        }
        return PipelineMessage(
            header: MessageHeader(type: .reject, code: code.rawValue, jobID: job.jobID),
            body: [Array(code.defaultMessage.utf8), sealed ?? []])
    }
}
