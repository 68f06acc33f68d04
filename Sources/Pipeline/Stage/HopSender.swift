public import Sodium
public import Wire

/// Seals and signs a stage's output: to the next role's current key, or — from the last
/// stage — to the client's reply key as a `JobResult`.
public struct HopSender: Sendable {
    public let keys: StageKeys

    public init(keys: StageKeys) {
        self.keys = keys
    }

    /// The `forward` message carrying `output` for the job of `accepted`.
    public func forward(output: [UInt8], for accepted: HopReceiver.Accepted) throws -> PipelineMessage {
        var header = accepted.header
        header.type = .forward
        let ciphertext: [UInt8]
        let receiver: String
        if let downstream = keys.downstream {
            let envelope = JobEnvelope(jobID: header.jobID, replyKey: accepted.envelope.replyKey, body: output)
            ciphertext = try SealedBox.seal(envelope.encoded(), to: downstream.boxKey)
            header.epoch = downstream.epoch
            receiver = downstream.role
        } else {
            let replyKey = try BoxPublicKey(bytes: accepted.envelope.replyKey)
            ciphertext = try SealedBox.seal(JobResult(jobID: header.jobID, body: output).encoded(), to: replyKey)
            receiver = HopSignature.clientRole
        }
        let signature = keys.signing.signature(
            for: HopSignature.signedBytes(from: keys.role, to: receiver, header: header, ciphertext: ciphertext))
        return PipelineMessage(header: header, body: [ciphertext, signature])
    }

    /// A `reject` telling the gateway to end the job with `code`.
    public static func reject(jobID: JobID, code: ErrorCode, reason: String) -> PipelineMessage {
        PipelineMessage(header: MessageHeader(type: .reject, code: code.rawValue, jobID: jobID), body: [Array(reason.utf8)])
    }
}
