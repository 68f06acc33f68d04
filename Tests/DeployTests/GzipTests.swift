import Foundation
import Testing

@testable import Deploy

@Suite("Gzip (stored) and YAML text")
struct GzipTests {
    @Test("CRC-32 of the standard check string")
    func crc() {
        #expect(Gzip.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(Gzip.crc32([]) == 0)
    }

    @Test("gzip -d inflates what we write, also across several stored blocks", arguments: [0, 1, 65_535, 200_000])
    func inflates(count: Int) throws {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let (status, _) = try DeployFixture.run("gzip", ["-t"], input: Data(Gzip.stored(bytes)))
        #expect(status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-dc"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread {
            input.fileHandleForWriting.write(Data(Gzip.stored(bytes)))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let inflated = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect([UInt8](inflated) == bytes)
    }

    @Test("YAML strings are quoted so nothing reads as a number, boolean or tag")
    func quoting() {
        let value: ManifestValue = [
            "a": "true", "b": "0755", "c": "line\nbreak \"quoted\"", "app.kubernetes.io/name": "x", "empty": [:],
            "list": [["k": "v", "n": 1], "s"],  // "n" is a YAML 1.1 boolean: quoted
        ]
        let lines = value.yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            lines == [
                #"a: "true""#, #"b: "0755""#, #"c: "line\nbreak \"quoted\"""#, #"app.kubernetes.io/name: "x""#,
                "empty: {}", "list:", #"- k: "v""#, #"  "n": 1"#, #"- "s""#, "",
            ])
    }
}
