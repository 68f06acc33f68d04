import Observability
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A client that holds its connection (silent, or sending a byte at a time) holds only that
/// connection, and only until the server's request timeout.
@Suite("Metrics endpoint under slow clients", .timeLimit(.minutes(1)))
struct MetricsServerSlowClientTests {
    /// A plain TCP connection to the server, with a 10 s receive timeout of its own.
    func connectRaw(port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        return descriptor
    }

    @Test func aSilentClientDoesNotHoldUpAScrape() async throws {
        let server = try MetricsHTTPServer(
            host: "127.0.0.1", port: 0, requestTimeout: .seconds(30), metrics: { "up 1\n" }, status: { "{}" })
        let serving = try await MetricsServing.start(server)
        defer { serving.cancel() }
        // Several clients connect and send nothing; with one thread serving, the first would hold
        // every scrape for the whole 30 s.
        let silent = try (0..<4).map { _ in try connectRaw(port: server.port) }
        defer { for descriptor in silent { close(descriptor) } }
        let started = ContinuousClock.now
        let metrics = try HTTPGet.fetch(host: "127.0.0.1", port: server.port, path: "/metrics", timeout: .seconds(5))
        #expect(metrics.hasPrefix("up 1\n"))
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test func aClientDrippingItsRequestIsCutOffAtTheRequestTimeout() async throws {
        let server = try MetricsHTTPServer(
            host: "127.0.0.1", port: 0, requestTimeout: .milliseconds(500), metrics: { "up 1\n" }, status: { "{}" })
        let serving = try await MetricsServing.start(server)
        defer { serving.cancel() }
        let slow = try connectRaw(port: server.port)
        defer { close(slow) }
        let started = ContinuousClock.now
        // One byte every 100 ms: each read comes well within any per-read timeout, so only a
        // deadline for the whole request ends it. The server closes without an answer.
        var closedAfter: Int?
        for (index, byte) in Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8).enumerated() {
            var value = byte
            if send(slow, &value, 1, Int32(MSG_NOSIGNAL)) <= 0 {
                closedAfter = index
                break
            }
            var item = pollfd(fd: slow, events: Int16(POLLIN), revents: 0)
            if poll(&item, 1, 100) > 0 {
                var answer: UInt8 = 0
                #expect(recv(slow, &answer, 1, 0) <= 0, "the server answered an incomplete request")
                closedAfter = index
                break
            }
        }
        let elapsed = ContinuousClock.now - started
        #expect(closedAfter != nil)
        #expect(elapsed >= .milliseconds(450))
        #expect(elapsed < .seconds(2))
    }

    @Test func connectionsBeyondTheLimitAreClosedAndTheServerRecovers() async throws {
        let server = try MetricsHTTPServer(
            host: "127.0.0.1", port: 0, requestTimeout: .milliseconds(300), maxConnections: 2, metrics: { "up 1\n" },
            status: { "{}" })
        let serving = try await MetricsServing.start(server)
        defer { serving.cancel() }
        let held = try (0..<2).map { _ in try connectRaw(port: server.port) }
        defer { for descriptor in held { close(descriptor) } }
        // Both slots are held by silent clients: a third connection is closed unanswered, until
        // their 300 ms run out; then scrapes work again.
        #expect(throws: (any Error).self) { try HTTPGet.fetch(host: "127.0.0.1", port: server.port, path: "/metrics") }
        var item = pollfd(fd: held[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&item, 1, 5000) > 0)
        var byte: UInt8 = 0
        #expect(recv(held[0], &byte, 1, 0) == 0)
        var answered = false
        for _ in 0..<50 where !answered {
            answered = (try? HTTPGet.fetch(host: "127.0.0.1", port: server.port, path: "/metrics")) != nil
        }
        #expect(answered)
    }
}

@Suite("Warning sampler")
struct WarningSamplerTests {
    @Test func aFloodBecomesOneLinePerKindPerIntervalWithItsCount() {
        var sampler = WarningSampler(interval: .seconds(10))
        let start = ContinuousClock.now
        sampler.record("replay")
        // The first line is due at once.
        #expect(sampler.due(now: start) == [.init(kind: "replay", count: 1)])
        for _ in 0..<4000 { sampler.record("replay") }
        sampler.record("binding", count: 3)
        #expect(sampler.due(now: start + .seconds(5)).isEmpty)
        #expect(
            sampler.due(now: start + .seconds(10)) == [
                .init(kind: "binding", count: 3), .init(kind: "replay", count: 4000),
            ])
        #expect(sampler.due(now: start + .seconds(30)).isEmpty)
        sampler.record("binding", count: 0)
        #expect(sampler.due(now: start + .seconds(40)).isEmpty)
    }
}
