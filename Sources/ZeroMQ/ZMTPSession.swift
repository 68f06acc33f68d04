/// One client connection to a `BoundedRouter`: the server side of ZMTP 3 (RFC 37/ZMTP) with
/// the NULL mechanism, read from raw TCP bytes so that every message is bounded while it
/// arrives, not after libzmq has assembled it.
///
/// libzmq hands a ROUTER a multipart message only once all of its frames are in memory, and its
/// only limit (`ZMQ_MAXMSGSIZE`) is per frame: one message of very many legal frames costs the
/// receiver their sum. Here a message that goes over `limits` stops being kept at the frame
/// that breaks the bound; its remaining bytes are read and let go as they arrive, and it is
/// reported as discarded when its last frame ends, and the connection goes on. A message far
/// over them (twice the byte bound, or 16 times the frame bound), or one frame over the byte
/// bound, is no mistake: the session throws, and the connection closes, so a peer cannot keep the reader busy with bytes it will
/// never keep. What a session holds is at most one message within the limits plus one unparsed
/// chunk.
///
/// A value with no I/O: `start()` gives the bytes to send first, `receive(_:)` takes what the
/// peer sent and returns what happened. A protocol violation throws, and the owner closes the
/// connection.
public struct ZMTPSession: Sendable {
    /// What a chunk of the peer's bytes produced.
    public enum Event: Sendable, Equatable {
        /// Bytes to send the peer (our READY, a PONG).
        case reply([UInt8])
        /// A whole message within the limits.
        case message([[UInt8]])
        /// A message over the limits, read to its end and let go; its size as sent.
        case discarded(frames: Int, bytes: UInt64)
    }

    /// The peer broke the protocol: the connection must close. `kind` is one of a fixed set
    /// (for metrics); `detail` says what was wrong, with numbers only (never peer bytes).
    public struct Violation: Error, Equatable, CustomStringConvertible {
        public let kind: String
        public let detail: String
        public var description: String { "\(kind): \(detail)" }
    }

    /// Socket types a ROUTER may talk to (RFC 28).
    public static let compatiblePeers: Set<String> = ["DEALER", "REQ", "ROUTER"]
    /// The largest command accepted: a READY with a few properties, a PING with its context.
    public static let maximumCommandBytes = 4096
    static let greetingBytes = 64

    private enum Phase { case greeting, handshake, traffic }

    /// Frames and bytes of one message, over the message's frames only (no routing id). Set it
    /// anew to change the bound for the messages that begin afterwards.
    public var limits: MessageLimits {
        didSet { (farOverBytes, farOverFrames) = Self.farOver(limits) }
    }
    private var phase = Phase.greeting
    /// Bytes received and not yet parsed, from `parsed` on.
    private var input: [UInt8] = []
    private var parsed = 0
    /// The message being received: frames kept so far, and its size as sent.
    private var frames: [[UInt8]] = []
    private var keptBytes = 0
    private var messageFrames = 0
    private var messageBytes: UInt64 = 0
    /// The routing id the peer asked for in its READY (`Identity`), if any: what a ROUTER names
    /// it by, as libzmq's would.
    public private(set) var requestedIdentity: [UInt8]?
    /// Set once the handshake completed and messages may follow.
    public var isReady: Bool { phase == .traffic }
    /// Set once the message went over the limits: nothing more of it is kept.
    private var skipping = false
    /// Body bytes still to let go of a frame being skipped, and whether a frame follows it.
    private var skipRemaining: UInt64 = 0
    private var skipMore = false

    /// Past either, a message is no mistake (see above); saturating for limits near `Int.max`.
    private var farOverBytes: UInt64
    private var farOverFrames: Int

    public init(limits: MessageLimits) {
        self.limits = limits
        (farOverBytes, farOverFrames) = Self.farOver(limits)
    }

    private static func farOver(_ limits: MessageLimits) -> (bytes: UInt64, frames: Int) {
        let bytes = UInt64(limits.maxBytes).multipliedReportingOverflow(by: 2)
        let frames = limits.maxFrames.multipliedReportingOverflow(by: 16)
        return (bytes.overflow ? .max : bytes.partialValue, frames.overflow ? .max : frames.partialValue)
    }

    /// Bytes held for the peer: the unparsed input and the frames of the message being received.
    public var bufferedBytes: Int { input.count - parsed + keptBytes }

    /// Our greeting, sent as soon as the peer connects: signature, version 3.0, NULL, filler.
    public static let greeting: [UInt8] = {
        var bytes: [UInt8] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 0]
        bytes += Array("NULL".utf8) + Array(repeating: 0, count: 16)
        bytes += Array(repeating: 0, count: 32)  // as-server (ignored by NULL) and filler
        return bytes
    }()

    /// Our READY: Socket-Type ROUTER.
    public static let ready: [UInt8] = command(name: "READY", body: property("Socket-Type", Array("ROUTER".utf8)))

    /// Takes a chunk of the peer's bytes; returns what it completed, in order.
    public mutating func receive(_ chunk: [UInt8]) throws(Violation) -> [Event] {
        if parsed == input.count {
            input = chunk
            parsed = 0
        } else {
            input += chunk
        }
        var events: [Event] = []
        while try step(into: &events) {}
        // Keep only what is unparsed: a frame's body waiting for its end, or a partial header.
        if parsed > 0 {
            input.removeFirst(parsed)
            parsed = 0
        }
        return events
    }

    /// Parses one unit (greeting, command, frame or part of a skipped frame); false when it needs more bytes.
    private mutating func step(into events: inout [Event]) throws(Violation) -> Bool {
        let available = input.count - parsed
        if skipRemaining > 0 {
            guard available > 0 else { return false }
            let taken = Int(min(UInt64(available), skipRemaining))
            parsed += taken
            skipRemaining -= UInt64(taken)
            if skipRemaining == 0 { endFrame(more: skipMore, into: &events) }
            return true
        }
        switch phase {
        case .greeting:
            try checkGreetingPrefix()
            guard available >= Self.greetingBytes else { return false }
            parsed += Self.greetingBytes
            phase = .handshake
            events.append(.reply(Self.ready))
            return true
        case .handshake, .traffic:
            guard let header = try frameHeader() else { return false }
            if header.isCommand {
                guard available >= header.headerBytes + Int(header.size) else { return false }
                let body = Array(input[(parsed + header.headerBytes)...].prefix(Int(header.size)))
                parsed += header.headerBytes + Int(header.size)
                try command(body, into: &events)
                return true
            }
            guard phase == .traffic else {
                throw Violation(kind: "handshake", detail: "a message frame came before the peer's READY command")
            }
            return try frame(header, available: available, into: &events)
        }
    }

    /// Refuses a peer as soon as the bytes it sent cannot begin a ZMTP 3 NULL greeting.
    private func checkGreetingPrefix() throws(Violation) {
        let greeting = input[parsed...]
        let start = greeting.startIndex
        if let first = greeting.first, first != 0xFF {
            throw Violation(kind: "signature", detail: "the first byte is not 0xFF: not a ZMTP peer")
        }
        if greeting.count > 9, greeting[start + 9] & 0x01 == 0 {
            throw Violation(kind: "signature", detail: "a ZMTP 1.0 peer (signature byte 9 is even)")
        }
        if greeting.count > 10, greeting[start + 10] < 3 {
            throw Violation(kind: "version", detail: "ZMTP \(greeting[start + 10]).x; this socket speaks 3.x")
        }
        if greeting.count >= 32 {
            let mechanism = greeting[(start + 12)..<(start + 32)]
            let null = Array("NULL".utf8) + Array(repeating: 0, count: 16)
            guard mechanism.elementsEqual(null) else {
                throw Violation(kind: "mechanism", detail: "the peer asks for a mechanism other than NULL")
            }
        }
    }

    private struct FrameHeader {
        var more: Bool
        var isCommand: Bool
        var size: UInt64
        var headerBytes: Int
    }

    private func frameHeader() throws(Violation) -> FrameHeader? {
        guard parsed < input.count else { return nil }
        let flags = input[parsed]
        guard flags & 0xF8 == 0 else {
            throw Violation(
                kind: "reserved_flags", detail: "frame flags 0x\(String(flags, radix: 16)) set reserved bits")
        }
        let isLong = flags & 0x02 != 0
        let headerBytes = isLong ? 9 : 2
        guard input.count - parsed >= headerBytes else { return nil }
        let size =
            isLong ? input[(parsed + 1)..<(parsed + 9)].reduce(0) { $0 << 8 | UInt64($1) } : UInt64(input[parsed + 1])
        let header = FrameHeader(
            more: flags & 0x01 != 0, isCommand: flags & 0x04 != 0, size: size, headerBytes: headerBytes)
        if header.isCommand {
            guard !header.more else {
                throw Violation(kind: "command", detail: "a command frame with the MORE flag")
            }
            // RFC 37 puts commands between messages, but libzmq sends a heartbeat PING whenever
            // its timer fires, between two frames of a message too; its decoder takes commands
            // anywhere, and so does this one: a command does not touch the message around it.
            guard size <= UInt64(Self.maximumCommandBytes) else {
                throw Violation(
                    kind: "command", detail: "a command of \(size) bytes (at most \(Self.maximumCommandBytes))")
            }
        }
        return header
    }

    /// A message frame: kept once its body is here, or skipped from its header on when it breaks a bound.
    private mutating func frame(
        _ header: FrameHeader, available: Int, into events: inout [Event]
    ) throws(Violation) -> Bool {
        let fits =
            !skipping && messageFrames + 1 <= limits.maxFrames
            && header.size <= UInt64(limits.maxBytes - keptBytes)
        if !fits {
            // One frame larger than a whole message may be is never a mistake worth reading: as
            // libzmq's ZMQ_MAXMSGSIZE, the connection closes at its header.
            guard header.size <= UInt64(limits.maxBytes) else {
                throw Violation(
                    kind: "oversize",
                    detail: "a frame of \(header.size) bytes (a message is at most \(limits.maxBytes))")
            }
            if !skipping {
                skipping = true
                frames = []
                keptBytes = 0
            }
            parsed += header.headerBytes
            messageFrames += 1
            messageBytes =
                messageBytes.addingReportingOverflow(header.size).overflow ? .max : messageBytes + header.size
            if messageBytes > farOverBytes || messageFrames > farOverFrames {
                let bound = "\(limits.maxFrames) frames and \(limits.maxBytes) bytes"
                throw Violation(kind: "oversize", detail: "a message far over the bound of \(bound)")
            }
            skipRemaining = header.size
            skipMore = header.more
            if header.size == 0 { endFrame(more: header.more, into: &events) }
            return true
        }
        let size = Int(header.size)
        guard available >= header.headerBytes + size else { return false }
        let start = parsed + header.headerBytes
        frames.append(Array(input[start..<(start + size)]))
        keptBytes += size
        parsed = start + size
        messageFrames += 1
        messageBytes += header.size
        endFrame(more: header.more, into: &events)
        return true
    }

    private mutating func endFrame(more: Bool, into events: inout [Event]) {
        guard !more else { return }
        events.append(skipping ? .discarded(frames: messageFrames, bytes: messageBytes) : .message(frames))
        frames = []
        keptBytes = 0
        messageFrames = 0
        messageBytes = 0
        skipping = false
    }

    private mutating func command(_ body: [UInt8], into events: inout [Event]) throws(Violation) {
        guard let nameLength = body.first.map(Int.init), body.count >= 1 + nameLength else {
            throw Violation(kind: "command", detail: "a command whose name runs past its \(body.count) bytes")
        }
        let name = String(decoding: body[1..<(1 + nameLength)], as: UTF8.self)
        let data = Array(body[(1 + nameLength)...])
        switch (phase, name) {
        case (.handshake, "READY"):
            let properties = try Self.properties(inReady: data)
            guard let socketType = properties["socket-type"].map({ String(decoding: $0, as: UTF8.self) }) else {
                throw Violation(kind: "handshake", detail: "a READY without Socket-Type")
            }
            guard Self.compatiblePeers.contains(socketType) else {
                throw Violation(kind: "socket_type", detail: "a ROUTER does not talk to this socket type")
            }
            if let identity = properties["identity"], !identity.isEmpty {
                // As libzmq: a chosen routing id is 1-255 bytes and never starts with a zero
                // byte, which marks the ids a router makes up itself.
                guard identity.count <= 255 else {
                    throw Violation(kind: "identity", detail: "a routing id of \(identity.count) bytes (at most 255)")
                }
                guard identity[0] != 0 else {
                    throw Violation(kind: "identity", detail: "a routing id starting with a zero byte")
                }
                requestedIdentity = identity
            }
            phase = .traffic
        case (.handshake, _):
            throw Violation(kind: "handshake", detail: "expected READY, got another command")
        case (.traffic, "PING"):
            // PING: a 2-byte TTL, then up to 16 bytes of context that PONG returns.
            guard data.count >= 2, data.count <= 18 else {
                throw Violation(kind: "command", detail: "a PING of \(data.count) bytes (2-18)")
            }
            events.append(.reply(Self.command(name: "PONG", body: Array(data.dropFirst(2)))))
        case (.traffic, "ERROR"):
            throw Violation(kind: "peer_error", detail: "the peer sent ERROR")
        case (.traffic, "READY"):
            throw Violation(kind: "handshake", detail: "a second READY")
        default:
            break  // PONG, SUBSCRIBE, CANCEL and later commands mean nothing to a ROUTER
        }
    }

    /// A READY's metadata (name-length, name, 4-byte value-length, value), names lower-cased.
    private static func properties(inReady data: [UInt8]) throws(Violation) -> [String: [UInt8]] {
        var index = 0
        var properties: [String: [UInt8]] = [:]
        while index < data.count {
            let nameLength = Int(data[index])
            guard index + 1 + nameLength + 4 <= data.count else {
                throw Violation(kind: "handshake", detail: "a READY property runs past the command")
            }
            let name = String(decoding: data[(index + 1)..<(index + 1 + nameLength)], as: UTF8.self)
            let lengthAt = index + 1 + nameLength
            let valueLength = data[lengthAt..<(lengthAt + 4)].reduce(0) { $0 << 8 | Int($1) }
            guard valueLength <= data.count - lengthAt - 4 else {
                throw Violation(kind: "handshake", detail: "a READY property value runs past the command")
            }
            properties[name.lowercased()] = Array(data[(lengthAt + 4)..<(lengthAt + 4 + valueLength)])
            index = lengthAt + 4 + valueLength
        }
        return properties
    }

    // MARK: Encoding

    /// A message as ZMTP frames: each with MORE but the last, short or long by its size.
    public static func encode(_ frames: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(frames.reduce(0) { $0 + $1.count + 9 })
        for (index, frame) in frames.enumerated() {
            appendHeader(to: &bytes, size: frame.count, more: index < frames.count - 1, command: false)
            bytes += frame
        }
        return bytes
    }

    /// A command frame: name length, name, body.
    public static func command(name: String, body: [UInt8]) -> [UInt8] {
        let payload = [UInt8(name.utf8.count)] + Array(name.utf8) + body
        var bytes: [UInt8] = []
        appendHeader(to: &bytes, size: payload.count, more: false, command: true)
        return bytes + payload
    }

    /// A metadata property as a READY carries it: name length, name, 4-byte value length, value.
    public static func property(_ name: String, _ value: [UInt8]) -> [UInt8] {
        let length = UInt32(value.count)
        return [UInt8(name.utf8.count)] + Array(name.utf8)
            + [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)] + value
    }

    private static func appendHeader(to bytes: inout [UInt8], size: Int, more: Bool, command: Bool) {
        var flags: UInt8 = (more ? 0x01 : 0) | (command ? 0x04 : 0)
        if size > 255 {
            flags |= 0x02
            bytes.append(flags)
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(UInt64(size) >> UInt64(shift) & 0xFF))
            }
        } else {
            bytes.append(flags)
            bytes.append(UInt8(size))
        }
    }
}
