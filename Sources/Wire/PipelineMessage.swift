/// One pipeline message: its header and the frames that follow it.
///
/// Frame counts by type: submit [header, sealed request]; result [header, sealed result,
/// signature]; error [header, UTF-8 message, sealed detail]; work [header, sealed request, empty
/// frame]; forward [header, sealed result, signature]; workBundle and forwardBundle [header, job
/// table, sealed bundle, signature]; ready and heartbeat [header, announcement]; reject [header,
/// UTF-8 reason, sealed detail].
///
/// The UTF-8 texts travel in clear, so they never hold anything derived from a job's data: only
/// the code's own message or what a check found in clear headers. A stage that has something to
/// say about a job's input (which token, which field) seals it to the job's reply key as the
/// "sealed detail" frame (empty when there is none), which only the client can open.
public struct PipelineMessage: Sendable, Hashable {
    public var header: MessageHeader
    public var body: [[UInt8]]

    /// Most frames any pipeline message has (a bundle: header, job table, sealed bundle,
    /// signature); sockets drop longer messages unread.
    public static let maximumFrameCount = 4
    /// Largest hop (all frames together) a pipeline socket accepts from a stage or the gateway:
    /// 64 MiB holds a bundle of 160 full 256-token windows of 384-wide hidden states.
    public static let maximumHopBytes = 64 << 20

    public init(header: MessageHeader, body: [[UInt8]]) {
        self.header = header
        self.body = body
    }

    /// The frames to send (after any ROUTER identity).
    public var frames: [[UInt8]] { [header.encoded()] + body }

    /// Decodes and checks the frame count for the type; never trusts a length it did not check.
    public init(frames: [[UInt8]]) throws(WireError) {
        guard let first = frames.first else {
            throw .wrongFrameCount(what: "message", expected: "at least 1", actual: 0)
        }
        header = try MessageHeader(decoding: first)
        body = Array(frames.dropFirst())
        let expected = Self.bodyFrameCount(for: header.type)
        guard body.count == expected else {
            throw .wrongFrameCount(what: "\(header.type) message", expected: "\(expected + 1)", actual: frames.count)
        }
    }

    static func bodyFrameCount(for type: MessageType) -> Int {
        switch type {
        case .submit, .ready, .heartbeat: 1
        case .result, .work, .forward, .error, .reject: 2
        case .workBundle, .forwardBundle: 3
        }
    }

    /// An error for the client: the code in the header, a message a person can act on, and any
    /// detail a stage sealed to the client's reply key.
    public static func error(_ code: ErrorCode, jobID: JobID, message: String? = nil, sealedDetail: [UInt8] = [])
        -> PipelineMessage
    {
        PipelineMessage(
            header: MessageHeader(type: .error, code: code.rawValue, jobID: jobID),
            body: [Array((message ?? code.defaultMessage).utf8), sealedDetail])
    }
}
