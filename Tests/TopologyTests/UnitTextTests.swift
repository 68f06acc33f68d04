import Testing

@testable import Topology

@Suite("Durations, sizes and endpoints")
struct UnitTextTests {
    @Test("durations parse in every unit and refuse anything else")
    func durations() {
        #expect(UnitText.duration("250us") == .microseconds(250))
        #expect(UnitText.duration("500ms") == .milliseconds(500))
        #expect(UnitText.duration("2s") == .seconds(2))
        #expect(UnitText.duration("10m") == .seconds(600))
        #expect(UnitText.duration("1h") == .seconds(3600))
        #expect(UnitText.duration("7ns") == .nanoseconds(7))
        #expect(UnitText.duration("0ms") == .zero)
        for bad in ["", "ms", "2", "1.5s", "-1s", "2 s", "2sec", "1h30m", "99999999999999999h", "s2"] {
            #expect(UnitText.duration(bad) == nil, "\(bad) must not parse")
        }
    }

    @Test("sizes parse in binary and decimal units and plain bytes")
    func sizes() {
        #expect(UnitText.byteSize("4096") == 4096)
        #expect(UnitText.byteSize("12B") == 12)
        #expect(UnitText.byteSize("64KiB") == 65536)
        #expect(UnitText.byteSize("1MiB") == 1_048_576)
        #expect(UnitText.byteSize("2GiB") == 2_147_483_648)
        #expect(UnitText.byteSize("3MB") == 3_000_000)
        for bad in ["", "MiB", "1.5MiB", "-1", "1 MiB", "1mib", "99999999999999999999GiB"] {
            #expect(UnitText.byteSize(bad) == nil, "\(bad) must not parse")
        }
    }

    @Test("formatting picks the largest exact unit")
    func formatting() {
        #expect(UnitText.format(.seconds(3600)) == "1h")
        #expect(UnitText.format(.seconds(90)) == "90s")
        #expect(UnitText.format(.milliseconds(2)) == "2ms")
        #expect(UnitText.format(.zero) == "0s")
        #expect(UnitText.format(bytes: 1_048_576) == "1MiB")
        #expect(UnitText.format(bytes: 1000) == "1000B")
    }

    @Test("endpoints parse in the three forms and refuse the rest")
    func endpoints() {
        #expect(Endpoint("tcp://127.0.0.1:5555") == .tcp(host: "127.0.0.1", port: 5555))
        #expect(Endpoint("tcp://*:1") == .tcp(host: "*", port: 1))
        #expect(Endpoint("tcp://gw.example:65535") == .tcp(host: "gw.example", port: 65535))
        #expect(Endpoint("tcp://[::1]:5555") == .tcp(host: "::1", port: 5555))
        #expect(Endpoint("ipc:///tmp/x.sock") == .ipc(path: "/tmp/x.sock"))
        #expect(Endpoint("inproc://gateway-backend") == .inproc(name: "gateway-backend"))
        #expect(Endpoint("tcp://[::1]:5555")?.description == "tcp://[::1]:5555")
        for bad in [
            "", "tcp://", "tcp://127.0.0.1", "tcp://127.0.0.1:0", "tcp://127.0.0.1:65536", "tcp://127.0.0.1:*",
            "tcp://:5555", "tcp://a b:1", "udp://127.0.0.1:1", "ipc://", "inproc://", "tcp://127.0.0.1:+80",
        ] {
            #expect(Endpoint(bad) == nil, "\(bad) must not parse")
        }
    }

    @Test("a wildcard bind connects to the host's address; other endpoints stay")
    func connectable() {
        #expect(Endpoint("tcp://*:5555")?.connectable(hostAddress: "10.0.0.1") == .tcp(host: "10.0.0.1", port: 5555))
        #expect(Endpoint("tcp://0.0.0.0:5")?.connectable(hostAddress: "h") == .tcp(host: "h", port: 5))
        #expect(Endpoint("tcp://1.2.3.4:5")?.connectable(hostAddress: "h") == .tcp(host: "1.2.3.4", port: 5))
        #expect(Endpoint("ipc://x")?.connectable(hostAddress: "h") == .ipc(path: "x"))
    }

    @Test("metrics addresses are HOST:PORT")
    func metricsAddresses() {
        #expect(MetricsAddress("127.0.0.1:9400") == MetricsAddress(host: "127.0.0.1", port: 9400))
        #expect(MetricsAddress("[::1]:9400")?.description == "[::1]:9400")
        #expect(MetricsAddress("9400") == nil)
        #expect(MetricsAddress("*:9400") == nil)
        #expect(MetricsAddress("http://x:1") == nil)
    }
}
