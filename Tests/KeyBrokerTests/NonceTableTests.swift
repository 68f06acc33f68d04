import Testing

@testable import KeyBroker

@Suite("Key broker: nonce limits")
struct NonceTableTests {
    static func nonce(_ i: Int) -> [UInt8] { withUnsafeBytes(of: i) { Array($0) } }

    @Test("a peer over its quota gets busy while another peer is served; expiry frees the quota")
    func perPeer() {
        var table = NonceTable(perPeer: 3, capacity: 10, ttl: 1000, keepAfterExpiry: 1000)
        for i in 0..<3 { #expect(table.issue(Self.nonce(i), peer: "a", now: 0) == .issued(expiresAt: 1000)) }
        #expect(table.issue(Self.nonce(3), peer: "a", now: 0) == .peerBusy)
        #expect(table.issue(Self.nonce(4), peer: "b", now: 0) == .issued(expiresAt: 1000))
        // Using a nonce gives the peer its slot back; the used nonce is still named on replay.
        #expect(table.consume(Self.nonce(0), now: 10) == .accepted)
        #expect(table.consume(Self.nonce(0), now: 11) == .reused)
        #expect(table.issue(Self.nonce(5), peer: "a", now: 20) == .issued(expiresAt: 1020))
        #expect(table.issue(Self.nonce(6), peer: "a", now: 20) == .peerBusy)
        // After expiry the quota is free again and a late nonce is named expired.
        #expect(table.issue(Self.nonce(7), peer: "a", now: 1020) == .issued(expiresAt: 2020))
        #expect(table.consume(Self.nonce(1), now: 1021) == .expired(at: 1000))
        #expect(table.consume(Self.nonce(99), now: 1021) == .unknown)
        // Forgotten one keep-period after expiry: the table does not grow with time.
        table.purge(now: 3021)
        #expect(table.count == 0)
        #expect(table.peerCount == 0)
    }

    @Test("the table never holds more than its capacity, whatever the number of peers")
    func capacity() {
        var table = NonceTable(perPeer: 2, capacity: 5, ttl: 1000, keepAfterExpiry: 1000)
        var issued = 0
        for i in 0..<50 {
            if case .issued = table.issue(Self.nonce(i), peer: "peer-\(i)", now: 0) { issued += 1 }
        }
        #expect(issued == 5)
        #expect(table.count == 5)
        #expect(table.issue(Self.nonce(100), peer: "late", now: 0) == .full)
        #expect(table.issue(Self.nonce(101), peer: "late", now: 2000) == .issued(expiresAt: 3000))
        #expect(table.count == 1)
    }

    @Test("a million nonces over time: the table holds only what is live or recently expired")
    func longRun() {
        var table = NonceTable(perPeer: 4, capacity: 100, ttl: 10, keepAfterExpiry: 10)
        var most = 0
        for i in 0..<1_000_000 {
            _ = table.issue(Self.nonce(i), peer: "p\(i % 8)", now: UInt64(i))
            most = max(most, table.count)
        }
        // One nonce a millisecond, each held its 10 ms TTL and 10 ms more: about 20 at any time.
        #expect(most <= 21)
        #expect(table.count <= 21)
    }
}
