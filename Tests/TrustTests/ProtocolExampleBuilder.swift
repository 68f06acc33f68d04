import Attestation
import Foundation
import Sodium
import Trust
import Wire

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
