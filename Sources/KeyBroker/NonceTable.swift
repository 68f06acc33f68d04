/// The broker's one-time nonces, bounded per peer and in total, forgotten soon after expiry.
///
/// A peer (a network address) holds at most `perPeer` unused, unexpired nonces; more requests
/// from it get `busy` while every other peer is still served, so one flooding address cannot
/// stop other nodes attesting. Nonces are kept `keepAfterExpiry` past their expiry only so a
/// late replay is named as such, and never more than `capacity` records in all. Issue order is
/// expiry order (one TTL), so expiring and forgetting walk one queue from its front: O(1)
/// amortised per request, never a scan of the table.
struct NonceTable {
    enum Issue: Equatable {
        case issued(expiresAt: UInt64)
        /// This peer already holds `perPeer` unused nonces.
        case peerBusy
        /// The table holds `capacity` records.
        case full
    }

    enum Consume: Equatable {
        case accepted
        case unknown
        case reused
        case expired(at: UInt64)
    }

    private struct Record {
        var expiresAt: UInt64
        var used: Bool
        /// Still counted in its peer's outstanding nonces.
        var outstanding: Bool
        let peer: String
    }

    let perPeer: Int
    let capacity: Int
    let ttl: UInt64
    let keepAfterExpiry: UInt64
    private var records: [[UInt8]: Record] = [:]
    private var outstanding: [String: Int] = [:]
    /// Nonces in issue order; `expiredHead` and `forgottenHead` index the next to expire and to forget.
    private var queue: [(nonce: [UInt8], expiresAt: UInt64)] = []
    private var expiredHead = 0
    private var forgottenHead = 0

    init(perPeer: Int, capacity: Int, ttl: UInt64, keepAfterExpiry: UInt64) {
        precondition(perPeer > 0 && capacity >= perPeer, "nonce limits must allow one nonce")
        self.perPeer = perPeer
        self.capacity = capacity
        self.ttl = ttl
        self.keepAfterExpiry = keepAfterExpiry
    }

    /// Records held (issued and not yet forgotten).
    var count: Int { records.count }
    /// Peers holding at least one unused, unexpired nonce.
    var peerCount: Int { outstanding.count }

    /// Issues `nonce` to `peer` if its quota and the table allow.
    mutating func issue(_ nonce: [UInt8], peer: String, now: UInt64) -> Issue {
        purge(now: now)
        if outstanding[peer, default: 0] >= perPeer { return .peerBusy }
        if records.count >= capacity { return .full }
        let expiresAt = now + ttl
        records[nonce] = Record(expiresAt: expiresAt, used: false, outstanding: true, peer: peer)
        outstanding[peer, default: 0] += 1
        queue.append((nonce, expiresAt))
        return .issued(expiresAt: expiresAt)
    }

    /// Marks `nonce` used (whatever the outcome) and says whether it was good.
    mutating func consume(_ nonce: [UInt8], now: UInt64) -> Consume {
        purge(now: now)
        guard var record = records[nonce] else { return .unknown }
        if record.used { return .reused }
        record.used = true
        if record.outstanding {
            record.outstanding = false
            release(record.peer)
        }
        records[nonce] = record
        return now >= record.expiresAt ? .expired(at: record.expiresAt) : .accepted
    }

    /// Expires and forgets what is due; the broker also calls it when idle.
    mutating func purge(now: UInt64) {
        while expiredHead < queue.count, queue[expiredHead].expiresAt <= now {
            let nonce = queue[expiredHead].nonce
            if var record = records[nonce], record.outstanding {
                record.outstanding = false
                records[nonce] = record
                release(record.peer)
            }
            expiredHead += 1
        }
        while forgottenHead < expiredHead, queue[forgottenHead].expiresAt + keepAfterExpiry <= now {
            records[queue[forgottenHead].nonce] = nil
            forgottenHead += 1
        }
        // Drop the forgotten front once it is most of the queue, so the queue stays O(records).
        if forgottenHead > 1024, forgottenHead * 2 > queue.count {
            queue.removeFirst(forgottenHead)
            expiredHead -= forgottenHead
            forgottenHead = 0
        }
    }

    private mutating func release(_ peer: String) {
        let remaining = outstanding[peer, default: 1] - 1
        outstanding[peer] = remaining > 0 ? remaining : nil
    }
}
