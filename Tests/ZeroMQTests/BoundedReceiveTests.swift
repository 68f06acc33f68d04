import Testing
import ZeroMQ

@Suite("Receiving under message limits", .timeLimit(.minutes(1)))
struct BoundedReceiveTests {
    @Test("a message over the frame count or byte limit keeps only its routing id; the next arrives whole")
    func limits() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        let endpoint = try router.bind("tcp://127.0.0.1:0")
        let dealer = try context.socket(.dealer)
        try dealer.connect(endpoint)

        _ = try dealer.send(Array(repeating: [0x41], count: 10))
        let many = try #require(try router.receive(timeout: .seconds(5), maximumFrames: 3, maximumBytes: 1024))
        #expect(many.excess == .tooManyFrames(limit: 3))
        #expect(many.frames.count == 1)
        #expect(many.peerAddress == "127.0.0.1")

        _ = try dealer.send([[UInt8](repeating: 1, count: 600), [UInt8](repeating: 2, count: 600)])
        let large = try #require(try router.receive(timeout: .seconds(5), maximumFrames: 3, maximumBytes: 1024))
        #expect(large.excess == .tooLarge(limit: 1024))
        #expect(large.frames == [many.frames[0]])

        _ = try dealer.send([[], [1, 2, 3]])
        let fine = try #require(try router.receive(timeout: .seconds(5), maximumFrames: 3, maximumBytes: 1024))
        #expect(fine.excess == nil)
        #expect(fine.frames == [many.frames[0], [], [1, 2, 3]])
        #expect(try router.receive(timeout: .milliseconds(50), maximumFrames: 3, maximumBytes: 1024) == nil)
    }
}
