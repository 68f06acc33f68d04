import ZeroMQ

/// What the key broker and the gateway read from any host: ZMTP 3 as a `BoundedRouter` parses it
/// (`ZMTPSession`). The first byte picks the size of the reads the stream is cut into (1-128
/// bytes) and, with its high bit clear, puts a well-formed greeting and READY first so the run
/// spends its time on frames. Whatever arrives, no message passes the limits and the session
/// never holds more than one message's bound, one command and one read.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    guard let first = bytes.first else { return 0 }
    let read = Int(first & 0x7F) + 1
    let limits = MessageLimits(maxFrames: 4, maxBytes: 1024)
    var stream = Array(bytes.dropFirst())
    if first & 0x80 == 0 {
        let ready = ZMTPSession.command(
            name: "READY", body: ZMTPSession.property("Socket-Type", Array("DEALER".utf8)))
        stream = ZMTPSession.greeting + ready + stream
    }
    var session = ZMTPSession(limits: limits)
    var offset = 0
    while offset < stream.count {
        let end = min(stream.count, offset + read)
        guard let events = try? session.receive(Array(stream[offset..<end])) else { return 0 }
        for case .message(let frames) in events {
            precondition(frames.count <= limits.maxFrames, "a message of \(frames.count) frames passed")
            precondition(frames.reduce(0) { $0 + $1.count } <= limits.maxBytes, "a message over the byte bound passed")
        }
        let bound = limits.maxBytes + ZMTPSession.maximumCommandBytes + 9 + read
        precondition(session.bufferedBytes <= bound, "the session holds \(session.bufferedBytes) bytes")
        offset = end
    }
    return 0
}
