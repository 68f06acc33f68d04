import Testing
import ZeroMQ

@Suite("Message limits", .timeLimit(.minutes(1)))
struct MessageLimitsTests {
    /// A ROUTER bound with the limits the gateway's front uses, and a raw peer connected to it.
    func routerAndRawPeer(limits: MessageLimits) throws -> (ZMQContext, Socket, RawZMTPPeer) {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.setMessageLimits(limits)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        return (context, router, try RawZMTPPeer(endpoint: endpoint))
    }

    @Test func aMessageOfManyLegalFramesIsDrainedAndReportedNotCopied() throws {
        let (_, router, peer) = try routerAndRawPeer(limits: MessageLimits(maxFrames: 3, maxBytes: 1 << 20))
        try peer.sendMessage(repeating: [7], count: 200_000)
        try peer.sendMessage(repeating: Array("hello".utf8), count: 1)

        let first = try #require(try router.receiveMessage(timeout: .seconds(20)))
        // The ROUTER adds the identity frame (5 bytes for a peer without one).
        guard case .discarded(let frames, let bytes) = first else {
            Issue.record("expected the long message to be discarded, got \(first)")
            return
        }
        #expect(frames == 200_001)
        #expect(bytes == 200_000 + 5)
        #expect(router.discardedMessages == 1)
        // The connection stays usable: the next, legal message arrives whole.
        let second = try #require(try router.receiveMessage(timeout: .seconds(5)))
        guard case .message(let legal) = second else {
            Issue.record("expected the legal message, got \(second)")
            return
        }
        #expect(legal.count == 2)
        #expect(legal[1] == Array("hello".utf8))
    }

    @Test func aMessageOverTheByteBoundInLegalFramesIsDiscarded() throws {
        let (_, router, peer) = try routerAndRawPeer(limits: MessageLimits(maxFrames: 5, maxBytes: 1000))
        // Four frames of 400 bytes: each under the frame cap, together over the byte bound.
        try peer.sendMessage(repeating: Array(repeating: 1, count: 400), count: 4)
        let received = try #require(try router.receiveMessage(timeout: .seconds(5)))
        #expect(received == .discarded(frames: 5, bytes: 1605))
    }

    @Test func aFrameAnnouncingMoreThanTheBoundCutsThePeerOffBeforeItsBodyArrives() throws {
        let (_, router, peer) = try routerAndRawPeer(limits: MessageLimits(maxFrames: 3, maxBytes: 1 << 20))
        // Announce a 300 MiB frame and send only 4 KiB of it: libzmq must refuse at the header,
        // never waiting for (or allocating room for) the rest.
        try peer.sendFrameStart(announcing: 300 << 20, prefix: Array(repeating: 9, count: 4096))
        #expect(peer.peerClosed())
        #expect(try router.receiveMessage(timeout: .milliseconds(100)) == nil)
    }

    @Test func everySocketStartsWithAFrameCountBoundAndReceiveSkipsWhatExceedsIt() throws {
        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        #expect(pull.messageLimits == .default)
        let endpoint = try pull.bind("inproc://limits-default")
        let push = try context.socket(.push)
        try push.connect(endpoint)
        try push.send(Array(repeating: [1], count: MessageLimits.default.maxFrames + 1))
        try push.send(Array(repeating: [2], count: MessageLimits.default.maxFrames))
        let received = try #require(try pull.receive(timeout: .seconds(5)))
        #expect(received == Array(repeating: [2], count: MessageLimits.default.maxFrames))
        #expect(pull.discardedMessages == 1)
    }
}
