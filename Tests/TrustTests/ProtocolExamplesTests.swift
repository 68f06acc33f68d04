import Foundation
import Sodium
import Testing

/// The worked examples in `docs/protocol.md` (Appendix A) are rebuilt here from their stated
/// inputs with the project's own encoders and signers, so the spec cannot drift from the code.
/// `Scripts/client.py --self-test` checks the same examples against the Python client's encoders.
@Suite("docs/protocol.md worked examples")
struct ProtocolExamplesTests {
    /// Every example the spec must carry; a missing one fails, and so does one not listed here.
    static let expected: [String] = [
        "public-keys", "header", "request-envelope", "result-plaintext", "result-signed-bytes", "result-signature",
        "policy-canonical-bytes", "policy-digest", "log-entry-policy-change", "log-entry-key-release",
        "inclusion-proof-5-of-7", "inclusion-proof-6-of-7", "tree-head-signed-bytes", "tree-head-signature",
        "manifest-signed-bytes", "manifest-signature", "role-certificate-signed-bytes", "role-certificate",
        "announcement-signed-bytes", "bundle-signed-bytes", "bundle-release-signed-bytes", "model-version",
        "receipt-input-digest", "receipt-output-digest", "receipt-signed-bytes", "receipt", "result-plaintext-v2",
    ]

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func specText() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("docs/protocol.md"), encoding: .utf8)
    }

    @Test("every example in docs/protocol.md is what the code builds")
    func examplesMatchTheCode() throws {
        let problems = try Self.problems(in: Self.specText())
        for problem in problems { Issue.record(Comment(rawValue: problem)) }
        #expect(problems.isEmpty)
    }

    @Test("a changed byte, a missing example or an unknown one is named")
    func driftIsNamed() throws {
        var text = try Self.specText()
        let document = try ExampleDocument(text: text)
        let signature = try #require(document.hexText["manifest-signature"])
        // Flip the first hex digit of the documented manifest signature.
        let first = signature.first { $0.isHexDigit }!
        let flipped = signature.replacingCharacters(
            in: signature.firstIndex(of: first)!...signature.firstIndex(of: first)!, with: first == "0" ? "1" : "0")
        text = text.replacingOccurrences(of: signature, with: flipped)
        text = text.replacingOccurrences(of: "```hex example=header\n", with: "```hex example=headers\n")
        let problems = try Self.problems(in: text)
        #expect(problems.contains { $0.hasPrefix("example manifest-signature:") })
        #expect(problems.contains { $0.hasPrefix("example header: missing") })
        #expect(problems.contains { $0.hasPrefix("example headers: not an example") })
    }

    /// Like the interop tests: skipped where python3 lacks PyNaCl, unless
    /// `SEALPIPE_REQUIRE_INTEROP=1` (set by `Scripts/test.sh`, which installs it).
    static let pythonAvailable: Bool = {
        if ProcessInfo.processInfo.environment["SEALPIPE_REQUIRE_INTEROP"] == "1" { return true }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import nacl"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()

    @Test(
        "Scripts/client.py --self-test agrees with every example it encodes or checks",
        .enabled(if: pythonAvailable, "python3 with PyNaCl not found (Scripts/setup.sh installs it)"))
    func pythonClientAgrees() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "Scripts/client.py", "--self-test"]
        process.currentDirectoryURL = Self.repositoryRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "client.py --self-test failed:\n\(text)")
    }

    /// What is wrong with the examples in `text`, one line each, naming the example.
    static func problems(in text: String) throws -> [String] {
        let document = try ExampleDocument(text: text)
        var problems = document.problems
        let built: [String: [UInt8]]
        do {
            built = try ExampleBuilder(inputs: document.inputs).build()
        } catch {
            return problems + ["examples: cannot rebuild from the stated inputs: \(error)"]
        }
        for name in expected {
            guard let documented = document.hex[name] else {
                problems.append("example \(name): missing from docs/protocol.md")
                continue
            }
            guard let actual = built[name] else {
                problems.append("example \(name): the test builds no such example")
                continue
            }
            if documented != actual {
                problems.append(
                    "example \(name): docs/protocol.md has \(Hex.encode(documented)), the code builds \(Hex.encode(actual))"
                )
            }
        }
        for name in document.hex.keys.sorted() where !expected.contains(name) {
            problems.append("example \(name): not an example this test knows")
        }
        return problems
    }
}
