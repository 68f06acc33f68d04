import Foundation
import Testing

@testable import ZeroMQ

/// A ROUTER that reads ZMTP itself: libzmq clients talk to it as to any ROUTER, and no message
/// is held past its limits, however it is cut into frames.
@Suite("Bounded router", .timeLimit(.minutes(1)))
struct BoundedRouterTests {
    static let limits = MessageLimits(maxFrames: 4, maxBytes: 64 << 10)

    /// Reads events until `count` of them (closes excluded unless asked) arrived, or 5 s passed.
    func events(_ router: BoundedRouter, count: Int) throws -> [BoundedRouter.Event] {
        var events: [BoundedRouter.Event] = []
        let end = ContinuousClock.now + .seconds(5)
        while events.count < count && ContinuousClock.now < end {
            let poller = Poller()
            poller.add(router.socket)
            _ = try poller.poll(timeout: .milliseconds(50))
            while let more = try router.receive() { events += more }
        }
        return events
    }

    /// Reads whatever arrives for `time`.
    func settle(_ router: BoundedRouter, for time: Duration = .milliseconds(300)) throws -> [BoundedRouter.Event] {
        var events: [BoundedRouter.Event] = []
        let end = ContinuousClock.now + time
        while ContinuousClock.now < end {
            while let more = try router.receive() { events += more }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return events
    }

    /// Whether `peer`'s connection ends within 10 s while the router is kept running: libzmq
    /// finishes closing a connection only as its owner keeps calling into the socket.
    func closes(_ peer: RawZMTPPeer, _ router: BoundedRouter) throws -> Bool {
        let end = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < end {
            while try router.receive() != nil {}
            if peer.closed(within: 20) { return true }
        }
        return false
    }

    /// Runs a peer's sends on another thread: more than the kernel buffers, they would block
    /// until the router (on this thread) reads.
    func inBackground(_ body: @escaping @Sendable () throws -> Void) {
        DispatchQueue.global().async { try? body() }
    }

    func router(
        limits: MessageLimits = limits, budget: Int = 256 << 20, connections: Int = 4096
    ) throws -> (ZMQContext, BoundedRouter, String) {
        let context = try ZMQContext()
        let router = try BoundedRouter(
            context: context, limits: limits, maxBufferedBytes: budget, maxConnections: connections)
        return (context, router, try router.bind("tcp://127.0.0.1:*"))
    }

    @Test func dealerAndRequestClientsExchangeMessagesOfEverySizeBothWays() throws {
        let (context, router, endpoint) = try router()
        let dealer = try context.socket(.dealer)
        try dealer.connect(endpoint)
        let request = try context.socket(.request)
        try request.connect(endpoint)
        let large = (0..<40_000).map { UInt8(truncatingIfNeeded: $0) }
        try dealer.send([[1, 2, 3], [], large])
        try request.send(Array("from REQ".utf8))
        let received = try events(router, count: 2)
        var identities: [String: [UInt8]] = [:]
        for event in received {
            guard case .message(let identity, let frames, let address) = event else {
                Issue.record("expected messages, got \(event)")
                continue
            }
            #expect(address == "127.0.0.1")
            if frames.count == 3 {
                #expect(frames == [[1, 2, 3], [], large])
                identities["dealer"] = identity
            } else {
                // REQ puts an empty delimiter before its frames, as a ROUTER sees it.
                #expect(frames == [[], Array("from REQ".utf8)])
                identities["request"] = identity
            }
        }
        let dealerID = try #require(identities["dealer"])
        let requestID = try #require(identities["request"])
        #expect(dealerID != requestID)

        #expect(try router.send(to: dealerID, [[9], large]))
        #expect(try router.send(to: requestID, [[], Array("to REQ".utf8)]))
        #expect(try dealer.receive(timeout: .seconds(5)) == [[9], large])
        #expect(try request.receive(timeout: .seconds(5)) == [Array("to REQ".utf8)])
        #expect(router.heldBytes == 0)
    }

    @Test func aPeerIsNamedByTheRoutingIDItChoseAndASecondClaimToItIsRefused() throws {
        let (context, router, endpoint) = try router()
        let first = try context.socket(.dealer)
        try first.setRoutingID(Array("stage.0".utf8))
        try first.connect(endpoint)
        try first.send([1])
        guard case .message(let identity, _, _) = try #require(try events(router, count: 1).first) else {
            Issue.record("expected a message")
            return
        }
        #expect(identity == Array("stage.0".utf8))
        let second = try context.socket(.dealer)
        try second.setRoutingID(Array("stage.0".utf8))
        try second.connect(endpoint)
        let refused = try events(router, count: 1)
        #expect(refused.contains { if case .closed(_, "identity_in_use", _) = $0 { true } else { false } })
        #expect(try router.send(to: identity, [[2]]))
        #expect(try first.receive(timeout: .seconds(5)) == [[2]])
        // A routing id starting with a zero byte is the router's own kind: a peer may not claim one.
        let raw = try RawZMTPPeer(endpoint: endpoint, handshake: false)
        let ready = ZMTPSession.command(
            name: "READY",
            body: ZMTPSession.property("Socket-Type", Array("DEALER".utf8)) + ZMTPSession.property("Identity", [0, 1]))
        try raw.send(ZMTPSession.greeting + ready)
        let zero = try events(router, count: 1)
        #expect(zero.contains { if case .closed(_, "identity", _) = $0 { true } else { false } })
    }

    @Test func aConnectionsBoundCanBeRaisedOnceItIsTrusted() throws {
        let (context, router, endpoint) = try router()
        let dealer = try context.socket(.dealer)
        try dealer.setRoutingID(Array("replica".utf8))
        try dealer.connect(endpoint)
        let half = [UInt8](repeating: 5, count: 40 << 10)  // two of them: over the 64 KiB bound
        try dealer.send([[1], half, half])
        let before = try events(router, count: 1)
        #expect(before.first == .discarded(identity: Array("replica".utf8), frames: 3, bytes: 1 + (80 << 10)))
        let raised = MessageLimits(maxFrames: 4, maxBytes: 1 << 20)
        #expect(router.setLimits(raised, of: Array("replica".utf8)))
        #expect(router.limits(of: Array("replica".utf8)) == raised)
        #expect(!router.setLimits(raised, of: Array("nobody".utf8)))
        try dealer.send([[2], half, half])
        let after = try events(router, count: 1)
        guard case .message(let identity, let frames, _) = after.first else {
            Issue.record("expected the message within the raised bound, got \(after.count) events")
            return
        }
        #expect(identity == Array("replica".utf8))
        #expect(frames.map(\.count) == [1, 40 << 10, 40 << 10])
    }

    @Test func aMessageOverItsBoundIsLetGoAsItArrivesAndTheConnectionGoesOn() throws {
        let (_, router, endpoint) = try router()
        let peer = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
        inBackground {
            try peer.sendMessage(repeating: [7], count: 40)  // 10 times the frame bound
            try peer.sendMessage(repeating: Array(repeating: 1, count: 1 << 14), count: 6)  // 96 KiB of 64 allowed
            try peer.sendMessage(repeating: Array("hello".utf8), count: 1)
        }
        let received = try events(router, count: 3)
        guard received.count == 3, case .discarded(_, 40, 40) = received[0],
            case .discarded(_, 6, 6 << 14) = received[1], case .message(_, let frames, _) = received[2]
        else {
            Issue.record("expected two discarded messages then a legal one, got \(received)")
            return
        }
        #expect(frames == [Array("hello".utf8)])
        // Never more than one message within the limits and one read of libzmq's at once.
        #expect(router.peakHeldBytes <= Self.limits.maxBytes + (1 << 16))
    }

    /// 200,000 one-byte frames, or 1.25 MiB of frames, against a bound of 4 frames and 64 KiB:
    /// no mistake, so the connection closes once the message is far over (16 × frames, 2 × bytes).
    @Test(arguments: [(200_000, 1), (40, 1 << 15)])
    func aMessageFarOverItsBoundClosesTheConnection(frames: Int, frameBytes: Int) throws {
        let (_, router, endpoint) = try router()
        let peer = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
        inBackground { try peer.sendMessage(repeating: Array(repeating: 7, count: frameBytes), count: frames) }
        let received = try events(router, count: 1)
        guard case .closed(_, "oversize", _) = received.first else {
            Issue.record("expected the connection closed as oversize, got \(received)")
            return
        }
        #expect(router.peakHeldBytes <= Self.limits.maxBytes + (1 << 16))
        #expect(try closes(peer, router))
    }

    @Test func aFrameAnnouncingMoreThanTheBoundIsNeverBuffered() throws {
        let (_, router, endpoint) = try router()
        let peer = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
        inBackground { try peer.sendFrameStart(announcing: 300 << 20, prefix: Array(repeating: 9, count: 1 << 20)) }
        let received = try events(router, count: 1)
        #expect(received.contains { if case .closed(_, "oversize", _) = $0 { true } else { false } })
        #expect(router.peakHeldBytes <= 1 << 16)
    }

    /// Each line: what a peer sends in place of a ZMTP 3 NULL handshake or its traffic, and the
    /// violation it must be closed for.
    @Test(arguments: [
        ("GET / HTTP/1.1\r\n", "signature"),
        ("ZMTP 1.0 signature", "signature"),
        ("ZMTP 2.0 greeting", "version"),
        ("CURVE mechanism", "mechanism"),
        ("a message before READY", "handshake"),
        ("READY from a PUB socket", "socket_type"),
        ("reserved flag bits", "reserved_flags"),
        ("a 5000-byte command", "command"),
        ("ERROR from the peer", "peer_error"),
    ])
    func protocolViolationsCloseTheConnectionAndSayWhy(sent: String, kind: String) throws {
        let (_, router, endpoint) = try router()
        let peer: RawZMTPPeer
        let greeting = ZMTPSession.greeting
        switch sent {
        case "GET / HTTP/1.1\r\n":
            peer = try RawZMTPPeer(endpoint: endpoint, handshake: false)
            try peer.send(Array(sent.utf8))
        case "ZMTP 1.0 signature":
            peer = try RawZMTPPeer(endpoint: endpoint, handshake: false)
            try peer.send([0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7E])
        case "ZMTP 2.0 greeting":
            peer = try RawZMTPPeer(endpoint: endpoint, handshake: false)
            try peer.send(Array(greeting.prefix(10)) + [1, 0])
        case "CURVE mechanism":
            peer = try RawZMTPPeer(endpoint: endpoint, handshake: false)
            try peer.send(Array(greeting.prefix(12)) + Array("CURVE".utf8) + Array(repeating: 0, count: 47))
        case "a message before READY":
            peer = try RawZMTPPeer(endpoint: endpoint, handshake: false)
            try peer.send(greeting + [0x00, 1, 42])
        case "READY from a PUB socket":
            peer = try RawZMTPPeer(endpoint: endpoint, socketType: "PUB", awaitPeer: false)
        default:
            peer = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
            switch sent {
            case "reserved flag bits": try peer.send([0x10, 1, 42])
            case "a 5000-byte command": try peer.send([0x06, 0, 0, 0, 0, 0, 0, 0x13, 0x88])
            default: try peer.send(ZMTPSession.command(name: "ERROR", body: [0]))
            }
        }
        let received = try events(router, count: 1)
        guard case .closed(_, let closedKind, let detail) = received.first else {
            Issue.record("expected the connection closed for \(kind), got \(received)")
            return
        }
        #expect(closedKind == kind, "\(detail)")
        #expect(try closes(peer, router))
        #expect(router.connectionCount == 0)
    }

    /// Also between two frames of a message, where libzmq's heartbeat timer may put it.
    @Test func aPingIsAnsweredWithItsContext() throws {
        let (_, router, endpoint) = try router()
        let peer = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
        let ping = ZMTPSession.command(name: "PING", body: [0, 10] + Array("ctx".utf8))
        try peer.send([0x01, 1, 42] + ping + [0x00, 1, 43])
        let received = try settle(router)
        guard case .message(_, let frames, _) = received.first else {
            Issue.record("expected the message around the PING, got \(received)")
            return
        }
        #expect(frames == [[42], [43]])
        try peer.readPeerHandshake()
        let header = try peer.receive(count: 2)
        #expect(header == [0x04, 8])
        #expect(try peer.receive(count: 8) == [4] + Array("PONG".utf8) + Array("ctx".utf8))
    }

    @Test func connectionsHoldingTheMostAreClosedWhenAllTogetherPassTheBudget() throws {
        let (_, router, endpoint) = try router(budget: 100 << 10)
        // Two connections hold 10 and 50 KiB of unfinished frames; a third sends 45 KiB of one.
        // All three pass the 100 KiB budget while the third holds at most 48 KiB (libzmq reads
        // 8 KiB at a time), so the 50 KiB one is closed, and the others go on.
        let small = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
        try small.sendFrameStart(announcing: 20 << 10, prefix: Array(repeating: 1, count: 10 << 10))
        let large = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
        try large.sendFrameStart(announcing: 60 << 10, prefix: Array(repeating: 1, count: 50 << 10))
        #expect(try settle(router).isEmpty)
        let third = try RawZMTPPeer(endpoint: endpoint, awaitPeer: false)
        try third.sendFrameStart(announcing: 60 << 10, prefix: Array(repeating: 1, count: 45 << 10))
        let received = try events(router, count: 1)
        #expect(received.contains { if case .closed(_, "buffer_budget", _) = $0 { true } else { false } })
        #expect(try closes(large, router))
        #expect(router.heldBytes <= 100 << 10)
        #expect(router.connectionCount == 2)
    }

    @Test func connectionsPastTheLimitAreClosedAtOnce() throws {
        let (_, router, endpoint) = try router(connections: 2)
        let peers = try (0..<2).map { _ in try RawZMTPPeer(endpoint: endpoint, awaitPeer: false) }
        #expect(try settle(router).isEmpty)
        let third = try RawZMTPPeer(endpoint: endpoint, handshake: false)
        let received = try events(router, count: 1)
        #expect(received.contains { if case .closed(_, "too_many_connections", _) = $0 { true } else { false } })
        #expect(try closes(third, router))
        #expect(router.connectionCount == peers.count)
    }

    @Test func aPeerThatLeavesIsForgottenAndItsIdentityRefusesSends() throws {
        let (context, router, endpoint) = try router()
        var identity: [UInt8] = []
        do {
            let dealer = try context.socket(.dealer)
            try dealer.connect(endpoint)
            try dealer.send([1])
            guard case .message(let id, _, _) = try #require(try events(router, count: 1).first) else {
                Issue.record("expected a message")
                return
            }
            identity = id
            dealer.close()
        }
        let end = ContinuousClock.now + .seconds(5)
        while router.connectionCount > 0 && ContinuousClock.now < end { _ = try events(router, count: 1) }
        #expect(router.connectionCount == 0)
        #expect(throws: ZMQError.self) { try router.send(to: identity, [[1]]) }
    }

    /// The same bytes cut anywhere give the same messages.
    @Test func aSessionReadsTheSameMessagesHoweverTheBytesAreCut() throws {
        var stream = ZMTPSession.greeting
        stream += ZMTPSession.command(
            name: "READY", body: ZMTPSession.property("Socket-Type", Array("DEALER".utf8)))
        let messages: [[[UInt8]]] = [[[1]], [[], Array(repeating: 2, count: 300)], [[3], [4], [5]]]
        for message in messages { stream += ZMTPSession.encode(message) }
        for cut in [1, 2, 7, 64, 100, stream.count] {
            var session = ZMTPSession(limits: Self.limits)
            var got: [[[UInt8]]] = []
            var offset = 0
            while offset < stream.count {
                let chunk = Array(stream[offset..<min(stream.count, offset + cut)])
                offset += cut
                for event in try session.receive(chunk) {
                    if case .message(let frames) = event { got.append(frames) }
                }
            }
            #expect(got == messages, "cut every \(cut) bytes")
            #expect(session.bufferedBytes == 0)
        }
    }
}
