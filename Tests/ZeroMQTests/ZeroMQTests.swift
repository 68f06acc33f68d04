import Foundation
import Testing
import ZeroMQ

@Suite("ZeroMQ layer", .timeLimit(.minutes(1)))
struct ZeroMQTests {
    @Test func sixteenMebibyteMultipartMessageRoundTripsIntact() throws {
        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        let push = try context.socket(.push)
        try push.connect(endpoint)

        var big = [UInt8](repeating: 0, count: 16 << 20)
        var state: UInt32 = 0x9E37_79B9
        for index in big.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            big[index] = UInt8(truncatingIfNeeded: state >> 24)
        }
        let frames: [[UInt8]] = [Array("header".utf8), [], big, [42]]
        try push.send(frames)
        let received = try #require(try pull.receive(timeout: .seconds(20)))
        #expect(received.count == 4)
        #expect(received[0] == frames[0])
        #expect(received[1].isEmpty)
        #expect(received[2].count == big.count)
        #expect(received[2] == big)
        #expect(received[3] == [42])
    }

    @Test func routerRoutesRepliesByDealerIdentity() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        try router.setRouterMandatory(true)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        var dealers: [Socket] = []
        for name in ["alpha", "beta", "gamma"] {
            let dealer = try context.socket(.dealer)
            try dealer.setRoutingID(Array(name.utf8))
            #expect(try dealer.routingID() == Array(name.utf8))
            try dealer.connect(endpoint)
            try dealer.send([Array("hello from \(name)".utf8)])
            dealers.append(dealer)
        }
        var seen: [String: String] = [:]
        for _ in 0..<3 {
            let message = try #require(try router.receive(timeout: .seconds(5)))
            #expect(message.count == 2)
            seen[String(decoding: message[0], as: UTF8.self)] = String(decoding: message[1], as: UTF8.self)
        }
        #expect(seen == ["alpha": "hello from alpha", "beta": "hello from beta", "gamma": "hello from gamma"])

        // Reply to each identity; each dealer gets only its own reply.
        for name in ["gamma", "alpha", "beta"] {
            try router.send([Array(name.utf8), Array("to \(name)".utf8)])
        }
        for (dealer, name) in zip(dealers, ["alpha", "beta", "gamma"]) {
            let reply = try #require(try dealer.receive(timeout: .seconds(5)))
            #expect(reply == [Array("to \(name)".utf8)])
            #expect(try dealer.receive(timeout: .milliseconds(20)) == nil)
        }

        // An unknown identity is an error naming the call, not a silent drop.
        let error = #expect(throws: ZMQError.self) { try router.send([Array("nobody".utf8), [1]]) }
        #expect(error?.isHostUnreachable == true)
        #expect(error?.call == "zmq_msg_send")
    }

    @Test func receiveWithTimeoutReturnsOnTime() throws {
        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        _ = try pull.bind("inproc://timeout-test")
        let clock = ContinuousClock()
        let start = clock.now
        let message = try pull.receive(timeout: .milliseconds(200))
        let elapsed = clock.now - start
        #expect(message == nil)
        #expect(elapsed >= .milliseconds(195))
        #expect(elapsed < .milliseconds(1500))
    }

    @Test func closingAContextWithOpenSocketsAndPendingMessagesReturnsPromptly() throws {
        let clock = ContinuousClock()
        var wokeWithTermination = false
        let elapsed = try clock.measure {
            let context = try ZMQContext()
            let push = try context.socket(.push)
            // Nobody listens here, so every message stays pending in the socket.
            try push.connect("tcp://127.0.0.1:1")
            try push.setSendHighWaterMark(100_000)
            for index in 0..<1000 {
                _ = try push.send([Array("pending \(index)".utf8)], dontWait: true)
            }
            let blocked = try context.socket(.pull)
            _ = try blocked.bind("inproc://blocked")
            // A receive parked on another thread wakes with ETERM when the context shuts down.
            let parked = BlockedReceive(socket: blocked)
            parked.start()
            context.shutdown()
            #expect(parked.waitForExit(timeout: 5))
            wokeWithTermination = parked.error?.isContextTerminated == true
            // Leaving the scope releases the sockets (linger 0) and then terminates the context.
        }
        #expect(wokeWithTermination)
        #expect(elapsed < .seconds(2))
    }

    @Test func pollerReportsOnlyTheReadySocket() throws {
        let context = try ZMQContext()
        let quiet = try context.socket(.pull)
        let busy = try context.socket(.pull)
        _ = try quiet.bind("inproc://quiet")
        _ = try busy.bind("inproc://busy")
        let sender = try context.socket(.push)
        try sender.connect("inproc://busy")
        try sender.send([[1, 2, 3]])
        let poller = Poller()
        poller.add(quiet)
        poller.add(busy)
        let ready = try poller.poll(timeout: .seconds(2))
        #expect(ready == [[], .readable])
        #expect(try busy.receiveIfReady() == [[1, 2, 3]])
        #expect(try poller.poll(timeout: .milliseconds(10)) == [[], []])
    }

    @Test func allPatternsConnect() throws {
        let context = try ZMQContext()
        let reply = try context.socket(.reply)
        _ = try reply.bind("inproc://reqrep")
        let request = try context.socket(.request)
        try request.connect("inproc://reqrep")
        try request.send(Array("ping".utf8))
        #expect(try reply.receive(timeout: .seconds(2)) == [Array("ping".utf8)])
        try reply.send(Array("pong".utf8))
        #expect(try request.receive(timeout: .seconds(2)) == [Array("pong".utf8)])

        let publisher = try context.socket(.publish)
        _ = try publisher.bind("inproc://pubsub")
        let subscriber = try context.socket(.subscribe)
        try subscriber.subscribe(Array("topic".utf8))
        try subscriber.connect("inproc://pubsub")
        // inproc subscriptions arrive asynchronously: publish until one gets through, bounded.
        var received: [[UInt8]]?
        for _ in 0..<200 where received == nil {
            try publisher.send([Array("other".utf8)])
            try publisher.send([Array("topic".utf8), [7]])
            received = try subscriber.receive(timeout: .milliseconds(10))
        }
        #expect(received == [Array("topic".utf8), [7]])
    }

    @Test func optionsReadBackAndErrorsKeepTheirCall() throws {
        let context = try ZMQContext()
        let socket = try context.socket(.dealer)
        #expect(try socket.linger() == .zero)
        try socket.setSendHighWaterMark(123)
        try socket.setReceiveHighWaterMark(456)
        #expect(try socket.sendHighWaterMark() == 123)
        #expect(try socket.receiveHighWaterMark() == 456)
        try socket.setHeartbeat(interval: .milliseconds(100), timeout: .milliseconds(300), ttl: .seconds(1))
        let error = #expect(throws: ZMQError.self) { try socket.bind("nonsense://endpoint") }
        #expect(error?.call == "zmq_bind(nonsense://endpoint)")
        #expect(error?.errno != 0)
        socket.close()
        socket.close()
        #expect(throws: ZMQError.self) { try socket.send([[1]]) }
    }

    @Test(.enabled(if: ZMQContext.hasCurve, "libzmq built without CURVE"))
    func curveSecuredConnectionCarriesMessages() throws {
        let context = try ZMQContext()
        let server = try context.socket(.pull)
        let serverKeys = CurveKeys.make()
        try server.setCurveServer(secretKey: serverKeys.secret)
        let endpoint = try server.bind("tcp://127.0.0.1:*")
        let client = try context.socket(.push)
        let clientKeys = CurveKeys.make()
        try client.setCurveClient(
            serverKey: serverKeys.public, publicKey: clientKeys.public, secretKey: clientKeys.secret)
        try client.connect(endpoint)
        try client.send([[9, 9]])
        #expect(try server.receive(timeout: .seconds(5)) == [[9, 9]])
    }
}

/// A receive parked on its own thread, to prove that shutdown wakes it.
final class BlockedReceive: @unchecked Sendable {
    // @unchecked Sendable: `error` is written by the thread before `done` is signalled and read after.
    private let socket: Socket
    private let done = DispatchSemaphore(value: 0)
    private(set) var error: ZMQError?

    init(socket: Socket) { self.socket = socket }

    func start() {
        let thread = Thread { [self] in
            do { _ = try socket.receive() } catch { self.error = error as? ZMQError }
            done.signal()
        }
        thread.start()
    }

    func waitForExit(timeout seconds: Int) -> Bool {
        done.wait(timeout: .now() + .seconds(seconds)) == .success
    }
}
