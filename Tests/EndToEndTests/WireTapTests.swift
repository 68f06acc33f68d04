import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A tap on every hop — client↔gateway, gateway↔stages, nodes↔key broker — records all bytes
/// while real jobs run; none of the inputs, token id sequences or embedding values may appear.
/// Part of the end-to-end suite, so it never runs beside another pipeline on the same ports.
extension EndToEndTests {
    @Test(.enabled(if: WireTap.available, "needs tcpdump (Scripts/setup.sh installs it)"))
    func noPlaintextCrossesAnyHop() throws {
        let cases = try ReferenceCases.load()
        let input = try ReferenceCases.jsonLines(cases)
        let tap = try WireTap(ports: [5550, 5555, 5556])
        let pipeline = try LaunchedPipeline(topology: "minilm.yaml")
        let (swift, python) = try pipeline.runBothClients(
            topology: "minilm.yaml", stateDirectory: "minilm", input: input, allowSimulated: true)
        #expect(swift.status == 0)
        #expect(python.status == 0)
        #expect(pipeline.stop() == 0)
        let captured = try tap.stop()

        // The tap really sees payload bytes: the manifest's public JSON is on the key broker hop.
        #expect(captured.count > 100_000, "the capture holds the traffic")
        #expect(
            captured.contains(Array("\"pipelineID\":\"minilm\"".utf8)), "the tap sees cleartext where there is some")

        let embeddings = ReferenceCases.embeddings(fromJSONLines: swift.output)
        var checked = 0
        for (index, item) in cases.enumerated() {
            let text = Array(item.text.utf8)
            if text.count >= 8 {
                for needle in [Array(text.prefix(24)), Array(text.suffix(16))] where needle.count >= 8 {
                    #expect(!captured.contains(needle), "input text of \(item.name) crossed a hop in plaintext")
                    checked += 1
                }
            }
            let ids = try ReferenceCases.inputIDs(of: item.name)
            for start in stride(from: 0, to: max(0, ids.count - 4), by: 7) {
                let window = Array(ids[start..<start + 4])
                var little: [UInt8] = []
                for id in window { withUnsafeBytes(of: id.littleEndian) { little += $0 } }
                #expect(!captured.contains(little), "token ids of \(item.name) crossed a hop in plaintext")
                // As decimal text too ("101,2023,…" is how an error message or a JSON array would
                // show them). A window of ids that are all printable ASCII values is skipped there:
                // the broker's JSON carries bytes as decimal arrays, and hex text in them reads the
                // same ("e","d","d","d" is 101,100,100,100). The binary check above still covers it.
                if window.contains(where: { !(32...126).contains($0) }) {
                    #expect(!captured.contains(Array(window.map(String.init).joined(separator: ",").utf8)))
                    checked += 1
                }
                checked += 1
            }
            if let embedding = embeddings[index] {
                for start in stride(from: 0, to: embedding.count - 4, by: 48) {
                    var little: [UInt8] = []
                    for value in embedding[start..<start + 4] {
                        withUnsafeBytes(of: value.bitPattern.littleEndian) { little += $0 }
                    }
                    #expect(!captured.contains(little), "embedding values of \(item.name) crossed a hop in plaintext")
                    checked += 1
                }
            }
        }
        #expect(checked > 500)
    }
}

/// tcpdump on loopback for the given ports, writing every byte to a capture file.
final class WireTap {
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump")
            || FileManager.default.isExecutableFile(atPath: "/usr/sbin/tcpdump")
    }

    private let process = Process()
    private let file: URL

    init(ports: [Int]) throws {
        file = FileManager.default.temporaryDirectory.appendingPathComponent("sealpipe-tap-\(UUID().uuidString).pcap")
        let executable =
            FileManager.default.isExecutableFile(atPath: "/usr/bin/tcpdump") ? "/usr/bin/tcpdump" : "/usr/sbin/tcpdump"
        process.executableURL = URL(fileURLWithPath: executable)
        let filter = ports.map { "tcp port \($0)" }.joined(separator: " or ")
        process.arguments = ["-Z", "root", "-i", "lo", "-U", "-s", "0", "-w", file.path, filter]
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Ready once it records: knock on a tapped (still closed) port until the knock shows up.
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            try? RawTCP.sendGarbage(host: "127.0.0.1", port: ports[0], bytes: [])
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            if size > 24 { return }
            usleep(50_000)
        }
        process.terminate()
        throw CocoaError(.fileWriteUnknown)
    }

    /// Stops the capture and returns its bytes (pcap framing included; payloads are contiguous per segment).
    func stop() throws -> Data {
        process.terminate()  // tcpdump flushes and closes the capture on SIGTERM
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        defer { try? FileManager.default.removeItem(at: file) }
        return try Data(contentsOf: file)
    }
}

extension Data {
    /// Byte-string search: memchr to each candidate first byte, memcmp for the rest
    /// (Foundation's `range(of:)` is far too slow for hundreds of needles in tens of megabytes).
    func contains(_ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return withUnsafeBytes { haystack in
            needle.withUnsafeBytes { pattern in
                guard let base = haystack.baseAddress, haystack.count >= pattern.count else { return false }
                var offset = 0
                let last = haystack.count - pattern.count
                while offset <= last {
                    guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
                    let position = base.distance(to: UnsafeRawPointer(hit))
                    if memcmp(base + position, pattern.baseAddress!, pattern.count) == 0 { return true }
                    offset = position + 1
                }
                return false
            }
        }
    }
}

extension ReferenceCases {
    static func inputIDs(of name: String) throws -> [Int32] {
        let url = LaunchedPipeline.repositoryRoot.appendingPathComponent(
            "Tests/InferenceTests/Fixtures/minilm-reference.json")
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        let cases = object?["cases"] as? [[String: Any]] ?? []
        let ids = cases.first { $0["name"] as? String == name }?["input_ids"] as? [Int] ?? []
        return ids.map { Int32($0) }
    }
}
