import Attestation
import Foundation
import Sodium
import Testing
import Trust
import Wire

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

/// The fenced blocks of `docs/protocol.md`: ```` ```json example-input=NAME ```` (inputs) and
/// ```` ```hex example=NAME ```` (expected bytes; `#` starts a comment, white space is ignored).
struct ExampleDocument {
    var inputs: [String: [String: Any]] = [:]
    var hex: [String: [UInt8]] = [:]
    /// Each hex block's text as written, to alter it in tests.
    var hexText: [String: String] = [:]
    var problems: [String] = []

    init(text: String) throws {
        var open: (kind: String, name: String, lines: [String])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if var block = open {
                if line == "```" {
                    finish(block.kind, block.name, block.lines)
                    open = nil
                } else {
                    block.lines.append(line)
                    open = block
                }
            } else if line.hasPrefix("```hex example=") {
                open = ("hex", String(line.dropFirst("```hex example=".count)), [])
            } else if line.hasPrefix("```json example-input=") {
                open = ("json", String(line.dropFirst("```json example-input=".count)), [])
            }
        }
        if let open { problems.append("example \(open.name): the fenced block is not closed") }
    }

    private mutating func finish(_ kind: String, _ name: String, _ lines: [String]) {
        if kind == "json" {
            let object = try? JSONSerialization.jsonObject(with: Data(lines.joined(separator: "\n").utf8))
            guard let object = object as? [String: Any] else {
                problems.append("input \(name): not a JSON object")
                return
            }
            if inputs[name] != nil { problems.append("input \(name): stated twice") }
            inputs[name] = object
            return
        }
        let digits = lines.map { line in
            String(line.prefix { $0 != "#" }.filter { !$0.isWhitespace })
        }.joined()
        guard let bytes = Hex.decode(digits) else {
            problems.append("example \(name): not hex")
            return
        }
        if hex[name] != nil { problems.append("example \(name): written twice") }
        hex[name] = bytes
        hexText[name] = lines.joined(separator: "\n")
    }
}

/// Why an example could not be rebuilt from its inputs.
struct ExampleInputError: Error, CustomStringConvertible {
    var description: String
}

/// One `example-input` block's values, read by name and type.
struct ExampleInput {
    let name: String
    let values: [String: Any]

    func value(_ key: String) throws -> Any {
        guard let value = values[key] else { throw ExampleInputError(description: "input \(name): no \(key)") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let text = try value(key) as? String else {
            throw ExampleInputError(description: "input \(name): \(key) is not a string")
        }
        return text
    }

    func bytes(_ key: String) throws -> [UInt8] {
        guard let bytes = Hex.decode(try string(key)) else {
            throw ExampleInputError(description: "input \(name): \(key) is not hex")
        }
        return bytes
    }

    func u64(_ key: String) throws -> UInt64 {
        guard let number = try value(key) as? NSNumber, number.doubleValue >= 0,
            number.doubleValue == number.doubleValue.rounded()
        else {
            throw ExampleInputError(description: "input \(name): \(key) is not a whole number")
        }
        return number.uint64Value
    }

    func bool(_ key: String) throws -> Bool {
        guard let value = try value(key) as? Bool else {
            throw ExampleInputError(description: "input \(name): \(key) is not a boolean")
        }
        return value
    }

    func object(_ key: String) throws -> ExampleInput {
        guard let object = try value(key) as? [String: Any] else {
            throw ExampleInputError(description: "input \(name): \(key) is not an object")
        }
        return ExampleInput(name: "\(name).\(key)", values: object)
    }

    func json(_ key: String) throws -> Data {
        try JSONSerialization.data(withJSONObject: try value(key))
    }
}

/// Builds every example from the inputs with the project's encoders and signers.
struct ExampleBuilder {
    let inputs: [String: [String: Any]]

    func input(_ name: String) throws -> ExampleInput {
        guard let values = inputs[name] else { throw ExampleInputError(description: "no input \(name)") }
        return ExampleInput(name: name, values: values)
    }

    func jobID(_ input: ExampleInput, _ key: String = "jobID") throws -> JobID {
        guard let id = JobID(bytes: try input.bytes(key)) else {
            throw ExampleInputError(description: "input \(input.name): \(key) is not 16 bytes")
        }
        return id
    }

    func header(_ input: ExampleInput) throws -> MessageHeader {
        guard let type = MessageType(rawValue: UInt8(try input.u64("type"))) else {
            throw ExampleInputError(description: "input \(input.name): unknown type")
        }
        return MessageHeader(
            type: type, code: UInt16(try input.u64("code")), epoch: UInt32(try input.u64("epoch")),
            jobID: try jobID(input), deadline: try input.u64("deadline"), hop: UInt16(try input.u64("hop")))
    }

    func build() throws -> [String: [UInt8]] {
        var out: [String: [UInt8]] = [:]

        let keys = try input("keys")
        let broker = try SigningKeyPair(seed: try keys.bytes("brokerIdentitySeed"))
        let resultSigner = try SigningKeyPair(seed: try keys.bytes("postprocessorSigningSeed"))
        let front = try BoxKeyPair(seed: try keys.bytes("frontBoxSeed"))
        let previousFront = try BoxKeyPair(seed: try keys.bytes("previousFrontBoxSeed"))
        let reply = try BoxKeyPair(seed: try keys.bytes("replyBoxSeed"))
        let node = try BoxKeyPair(seed: try keys.bytes("nodeEphemeralBoxSeed"))
        let shard = try SigningKeyPair(seed: try keys.bytes("shard0SigningSeed"))
        let previousShard = try SigningKeyPair(seed: try keys.bytes("shard0PreviousSigningSeed"))
        out["public-keys"] =
            broker.publicKey.bytes + resultSigner.publicKey.bytes + front.publicKey.bytes
            + previousFront.publicKey.bytes + reply.publicKey.bytes + node.publicKey.bytes + shard.publicKey.bytes
            + previousShard.publicKey.bytes

        out["header"] = try header(try input("header")).encoded()

        let request = try input("request-envelope")
        out["request-envelope"] = JobEnvelope(
            jobID: try jobID(request), expiresAt: try request.u64("expiresAt"), replyKey: reply.publicKey.bytes,
            options: JobOptions(rawValue: UInt8(try request.u64("options"))),
            body: Array(try request.string("body").utf8)
        ).encoded()

        let result = try input("result")
        out["result-plaintext"] = JobResult(jobID: try jobID(result), body: try result.bytes("body")).encoded()
        let resultHeader = try header(try result.object("header"))
        let resultSigned = HopSignature.signedBytes(
            from: try result.string("role"), to: HopSignature.clientRole, header: resultHeader,
            ciphertext: try result.bytes("sealedResult"))
        out["result-signed-bytes"] = resultSigned
        out["result-signature"] = resultSigner.signature(for: resultSigned)

        let policy = try JSONDecoder().decode(ReleasePolicy.self, from: try input("policy").json("policy"))
        out["policy-canonical-bytes"] = policy.canonicalBytes
        out["policy-digest"] = policy.digest

        let entries = try input("log-entries")
        let change = try entries.object("policyChange")
        let policyEntry = LogEntry.policyChange(
            .init(
                time: try change.u64("time"), pipelineID: try change.string("pipelineID"),
                policy: policy.canonicalBytes, previousPolicyDigest: try change.bytes("previousPolicyDigest")))
        let release = try entries.object("keyRelease")
        let releaseEntry = LogEntry.keyRelease(
            .init(
                time: try release.u64("time"), role: try release.string("role"), epoch: try release.u64("epoch"),
                evidenceKind: try release.string("evidenceKind"), measurement: try release.string("measurement"),
                ephemeralKeyFingerprint: try release.bytes("ephemeralKeyFingerprint"),
                includesWeightKey: try release.bool("includesWeightKey"), policyIndex: try release.u64("policyIndex"),
                modelDigest: try release.bytes("modelDigest"),
                signingKeys: [6: previousShard.publicKey.bytes, 7: shard.publicKey.bytes]))
        out["log-entry-policy-change"] = policyEntry.encoded
        out["log-entry-key-release"] = releaseEntry.encoded

        // The log: leaves 0…4 are the ASCII text "leaf N"; 5 the policy change; 6 the key release.
        let log = try input("log")
        var tree = MerkleTree()
        for index in 0..<5 { tree.append(leafData: Array("leaf \(index)".utf8)) }
        tree.append(leafData: policyEntry.encoded)
        tree.append(leafData: releaseEntry.encoded)
        for index in [5, 6] {
            let proof = try tree.inclusionProof(index: index, size: tree.size)
            out["inclusion-proof-\(index)-of-7"] = try tree.leafHash(at: index) + proof.flatMap { $0 } + tree.root
        }
        let head = SignedTreeHead.sign(
            treeSize: UInt64(tree.size), rootHash: tree.root, timestamp: try log.u64("timestamp"), with: broker)
        out["tree-head-signed-bytes"] = head.signedBytes
        out["tree-head-signature"] = head.signature

        let fields = try input("manifest")
        let manifest = PipelineManifest(
            pipelineID: try change.string("pipelineID"), frontRole: try fields.string("frontRole"),
            frontKey: EpochPublicKey(epoch: try fields.u64("frontEpoch"), key: front.publicKey),
            previousFrontKey: EpochPublicKey(epoch: try fields.u64("previousFrontEpoch"), key: previousFront.publicKey),
            resultRole: try fields.string("resultRole"), resultSigner: resultSigner.publicKey,
            policyDigest: policy.digest, policyEntry: policyEntry.encoded, policyEntryIndex: 5, treeHead: head,
            policyInclusionProof: try tree.inclusionProof(index: 5, size: tree.size),
            issuedAt: try fields.u64("issuedAt"), expiresAt: try fields.u64("expiresAt"),
            epochEndsAt: try fields.u64("epochEndsAt"), graceMilliseconds: try fields.u64("graceMilliseconds"),
            policySummary: RolePolicySummary.summaries(of: policy)
        ).signed(with: broker)
        out["manifest-signed-bytes"] = manifest.signedBytes
        out["manifest-signature"] = manifest.signature
        out["model-version"] = Hex.decode(manifest.modelVersion)

        let receiptInput = try input("receipt")
        let receiptJob = try jobID(receiptInput)
        let inputDigest = ReceiptDigest.of(try receiptInput.bytes("input"), replyKey: reply.publicKey.bytes)
        let outputDigest = ReceiptDigest.of(try receiptInput.bytes("output"), replyKey: reply.publicKey.bytes)
        out["receipt-input-digest"] = inputDigest
        out["receipt-output-digest"] = outputDigest
        var receipt = StageReceipt(
            role: try receiptInput.string("role"), replica: UInt16(try receiptInput.u64("replica")),
            epoch: UInt32(try receiptInput.u64("epoch")), releaseIndex: try receiptInput.u64("releaseIndex"),
            shardDigest: try receiptInput.bytes("shardDigest"), inputDigest: inputDigest, outputDigest: outputDigest,
            time: try receiptInput.u64("time"))
        let receiptSigned = receipt.signedBytes(pipelineID: try change.string("pipelineID"), jobID: receiptJob)
        receipt.signature = shard.signature(for: receiptSigned)
        out["receipt-signed-bytes"] = receiptSigned
        out["receipt"] = receipt.encoded()
        out["result-plaintext-v2"] = JobResult(
            jobID: receiptJob, body: try result.bytes("body"), receipts: ReceiptChain.encode([receipt])
        ).encoded()

        let certificateInput = try input("role-certificate")
        let certificate = RoleCertificate(
            pipelineID: try change.string("pipelineID"), role: try certificateInput.string("role"),
            epoch: UInt32(try certificateInput.u64("epoch")), signingKey: resultSigner.publicKey.bytes,
            notAfter: try certificateInput.u64("notAfter")
        ).signed(with: broker)
        out["role-certificate-signed-bytes"] = certificate.signedBytes
        out["role-certificate"] = certificate.encoded()

        let announcementInput = try input("announcement")
        let epochs = try announcementInput.value("epochs") as? [NSNumber] ?? []
        let announcement = ReplicaAnnouncement(
            role: try certificateInput.string("role"), replica: UInt16(try announcementInput.u64("replica")),
            instance: try announcementInput.u64("instance"), capacity: UInt32(try announcementInput.u64("capacity")),
            epochs: epochs.map(\.uint32Value), timestamp: try announcementInput.u64("timestamp"),
            certificate: certificate.encoded())
        out["announcement-signed-bytes"] = announcement.signedBytes(
            routingID: Array(try announcementInput.string("routingID").utf8))

        let bundle = try input("bundle")
        let table = try (bundle.value("jobs") as? [[String: Any]] ?? []).map { job in
            let entry = ExampleInput(name: "bundle.jobs", values: job)
            return BundleTable.Entry(jobID: try jobID(entry), deadline: try entry.u64("deadline"))
        }
        guard
            let bundleSigned = HopSignature.bundleSignedBytes(
                from: try bundle.string("sender"), to: try bundle.string("receiver"),
                receivingHop: UInt16(try bundle.u64("receivingHop")), header: try header(try bundle.object("header")),
                table: BundleTable(entries: table).encoded(), sealedBox: try bundle.bytes("sealedBundle"))
        else { throw ExampleInputError(description: "input bundle: sealedBundle is shorter than 48 bytes") }
        out["bundle-signed-bytes"] = bundleSigned

        let bundleRelease = try input("bundle-release")
        out["bundle-release-signed-bytes"] = BundleRelease.signedBytes(
            nonce: try bundleRelease.bytes("nonce"), ephemeralKey: node.publicKey,
            sealedBundle: try bundleRelease.bytes("sealedBundle"))
        return out
    }
}
