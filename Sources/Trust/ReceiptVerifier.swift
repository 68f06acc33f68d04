import Attestation
public import Sodium
import Wire

/// Where a receipt verifier reads the key broker's log: every entry it returns must already be
/// proven to lie in a tree head signed by the broker key the verifier pins.
public protocol ProvenLog {
    /// The canonical bytes of the entry at `index`; throws naming why it cannot be had or proven.
    func entry(at index: UInt64) throws -> [UInt8]
}

/// A whole exported log, checked once (`LedgerVerifier`: every head signed by the pinned key,
/// roots recomputed from the entries, heads consistent) before any entry is handed out.
public struct ExportedLog: ProvenLog {
    public let export: LedgerExport
    public let report: LedgerReport

    public init(_ export: LedgerExport, pinnedKey: SigningPublicKey?) {
        self.export = export
        report = LedgerVerifier.verify(export, pinnedIdentity: pinnedKey)
    }

    public func entry(at index: UInt64) throws -> [UInt8] {
        guard report.isValid else { throw ProvenLogError.unsound(report.problems.joined(separator: "; ")) }
        guard index < UInt64(export.entries.count) else {
            throw ProvenLogError.missing("the log has \(export.entries.count) entries, none at index \(index)")
        }
        return export.entries[Int(index)]
    }
}

/// One entry fetched from a live broker, with its inclusion proof under a signed tree head.
public enum ProvenEntry {
    /// Returns `entry` if `head` is signed by `brokerKey` and `proof` puts `entry` at `index` in it.
    public static func check(
        entry: [UInt8], index: UInt64, head: SignedTreeHead, proof: [[UInt8]], brokerKey: SigningPublicKey
    ) throws -> [UInt8] {
        guard head.hasValidSignature(by: brokerKey) else {
            throw ProvenLogError.unsound("the tree head is not signed by the pinned broker key")
        }
        do {
            try MerkleProof.verifyInclusion(
                leafHash: MerkleHash.leaf(entry), index: index, treeSize: head.treeSize, proof: proof,
                root: head.rootHash)
        } catch {
            throw ProvenLogError.unsound("entry \(index) is not in the signed tree of size \(head.treeSize): \(error)")
        }
        return entry
    }
}

public enum ProvenLogError: Error, Sendable, CustomStringConvertible {
    /// The log itself does not verify.
    case unsound(String)
    /// The log has no such entry.
    case missing(String)

    public var description: String {
        switch self {
        case .unsound(let reason): reason
        case .missing(let reason): reason
        }
    }
}

/// Offline verification of one job's receipts against the key broker's log. Every check runs
/// and is reported, each by a stable name; the receipts hold only if every check passed.
///
/// What passing proves: each stage of the pipeline's path, in order, signed for this job with
/// the key the broker released to an attested node of that role (the release is in the signed
/// log, naming the evidence kind and measurement); each encoder stage ran the model shard the
/// policy in force at that release lists; and the stages' inputs and outputs chain from the
/// client's request to its result.
public enum ReceiptVerifier {
    /// Stable check names, in the order they are reported.
    public enum Check: String, Sendable, CaseIterable, Codable {
        /// Every receipt decodes.
        case format
        /// The log is sound: the export verifies, or each fetched entry is proven in a signed head.
        case ledger
        /// The logged policies name the receipt file's pipeline.
        case pipeline
        /// The receipts' roles are the policy's path, in order, each once.
        case path
        /// Every receipt is for the job's key epoch.
        case jobEpoch = "job-epoch"
        /// Every release index is a key release, in the log, of the receipt's role.
        case releaseEntry = "release-entry"
        /// The release carried a signing key for the receipt's epoch.
        case releaseEpoch = "release-epoch"
        /// Every receipt is signed, for this pipeline and job, by its release's key.
        case signature
        /// Every shard digest is the one its release logged and its policy lists.
        case shardDigest = "shard-digest"
        /// Each stage's output digest is the next stage's input digest.
        case digestChain = "digest-chain"
        /// The front stage's input is the client's request.
        case requestDigest = "request-digest"
        /// The last stage's output is the client's result.
        case resultDigest = "result-digest"
    }

    public static func verify(_ file: ReceiptFile, log: any ProvenLog) -> ReceiptVerificationReport {
        var results: [ReceiptVerificationReport.Result] = []
        func record(_ check: Check, _ problems: [String], _ passed: String) {
            results.append(
                .init(
                    check: check, passed: problems.isEmpty,
                    detail: problems.isEmpty ? passed : problems.joined(separator: "; ")))
        }

        let jobID: JobID
        let receipts: [StageReceipt]
        do {
            (jobID, receipts) = try file.decoded()
            record(.format, receipts.isEmpty ? ["the file holds no receipts"] : [], "\(receipts.count) receipts decode")
        } catch {
            record(.format, ["\(error)"], "")
            for check in Check.allCases where check != .format {
                record(check, ["not checked: the receipts do not decode"], "")
            }
            return ReceiptVerificationReport(results: results)
        }

        // Fetch each cited release and the policy it was made under, once each.
        var ledgerProblems: [String] = []
        var releases: [UInt64: LogEntry.KeyRelease] = [:]
        var policies: [UInt64: (pipelineID: String, policy: ReleasePolicy)] = [:]
        var releaseProblems: [String] = []
        for (hop, receipt) in receipts.enumerated() where releases[receipt.releaseIndex] == nil {
            let entry: LogEntry
            do {
                entry = try LogEntry(encoded: try log.entry(at: receipt.releaseIndex))
            } catch let error as ProvenLogError {
                if case .unsound = error { ledgerProblems.append("\(error)") }
                releaseProblems.append("hop \(hop) (\(receipt.role)): release \(receipt.releaseIndex): \(error)")
                continue
            } catch {
                releaseProblems.append("hop \(hop) (\(receipt.role)): release \(receipt.releaseIndex): \(error)")
                continue
            }
            guard case .keyRelease(let release) = entry else {
                releaseProblems.append(
                    "hop \(hop) (\(receipt.role)): entry \(receipt.releaseIndex) is a \(entry.typeName) entry")
                continue
            }
            releases[receipt.releaseIndex] = release
            guard policies[release.policyIndex] == nil else { continue }
            do {
                guard case .policyChange(let change) = try LogEntry(encoded: try log.entry(at: release.policyIndex))
                else {
                    releaseProblems.append("release \(receipt.releaseIndex) cites \(release.policyIndex), not a policy")
                    continue
                }
                policies[release.policyIndex] = (change.pipelineID, try ReleasePolicy(canonicalBytes: change.policy))
            } catch {
                releaseProblems.append("policy \(release.policyIndex) of release \(receipt.releaseIndex): \(error)")
            }
        }
        record(.ledger, ledgerProblems, "every cited entry is in a tree head signed by the pinned broker key")

        for (hop, receipt) in receipts.enumerated() {
            if let release = releases[receipt.releaseIndex], release.role != receipt.role {
                releaseProblems.append(
                    "hop \(hop): release \(receipt.releaseIndex) is of \(release.role), not \(receipt.role)")
            }
        }
        let uniqueReleaseProblems = Array(Set(releaseProblems)).sorted()

        let pipelineProblems = policies.sorted { $0.key < $1.key }.compactMap { index, policy in
            policy.pipelineID == file.pipelineID
                ? nil : "policy \(index) is of pipeline \(policy.pipelineID), not \(file.pipelineID)"
        }
        record(
            .pipeline, pipelineProblems + (policies.isEmpty ? ["no cited policy could be read"] : []),
            "every cited policy is of pipeline \(file.pipelineID)")

        let roles = receipts.map(\.role)
        let paths = Set(policies.values.map { $0.policy.path ?? [] })
        var pathProblems: [String] = []
        if paths.count != 1 {
            pathProblems.append(
                paths.isEmpty ? "no cited policy names a path" : "the cited policies name several paths")
        } else if let path = paths.first {
            if path.isEmpty {
                pathProblems.append("the policy names no path")
            } else if roles != path {
                pathProblems.append("the receipts' roles \(roles) are not the path \(path)")
            }
        }
        record(.path, pathProblems, "roles \(roles.joined(separator: " → ")) are the policy's path")

        record(
            .jobEpoch,
            receipts.enumerated().compactMap { hop, receipt in
                receipt.epoch == file.epoch ? nil : "hop \(hop) (\(receipt.role)) is in epoch \(receipt.epoch)"
            }, "every receipt is in epoch \(file.epoch)")

        record(
            .releaseEntry, uniqueReleaseProblems,
            "key releases " + receipts.map { "\($0.role)@\($0.releaseIndex)" }.joined(separator: ", "))

        var epochProblems: [String] = []
        var signatureProblems: [String] = []
        var shardProblems: [String] = []
        for (hop, receipt) in receipts.enumerated() {
            guard let release = releases[receipt.releaseIndex], release.role == receipt.role else {
                signatureProblems.append("hop \(hop) (\(receipt.role)): no release to check against")
                shardProblems.append("hop \(hop) (\(receipt.role)): no release to check against")
                continue
            }
            guard let keyBytes = release.signingKeys[UInt64(receipt.epoch)],
                let key = try? SigningPublicKey(bytes: keyBytes)
            else {
                epochProblems.append(
                    "hop \(hop) (\(receipt.role)): release \(receipt.releaseIndex) has no signing key for epoch "
                        + "\(receipt.epoch)")
                signatureProblems.append("hop \(hop) (\(receipt.role)): no released key for its epoch")
                continue
            }
            if !key.isValidSignature(
                receipt.signature, for: receipt.signedBytes(pipelineID: file.pipelineID, jobID: jobID))
            {
                signatureProblems.append(
                    "hop \(hop) (\(receipt.role)): not signed for job \(file.jobID) of \(file.pipelineID) by the key "
                        + "released at \(receipt.releaseIndex)")
            }
            let listed = policies[release.policyIndex]?.policy.roles[receipt.role]?.shardDigest?.lowercased() ?? ""
            let logged = Hex.encode(release.modelDigest)
            let named = Hex.encode(receipt.shardDigest)
            if named != logged || named != listed {
                shardProblems.append(
                    "hop \(hop) (\(receipt.role)): shard \(named.isEmpty ? "none" : named), release logged "
                        + "\(logged.isEmpty ? "none" : logged), policy lists \(listed.isEmpty ? "none" : listed)")
            }
        }
        record(.releaseEpoch, epochProblems, "every release carried a signing key for epoch \(file.epoch)")
        record(
            .signature, signatureProblems,
            "signed for job \(file.jobID) by "
                + receipts.map { receipt in
                    let key = releases[receipt.releaseIndex]?.signingKeys[UInt64(receipt.epoch)] ?? []
                    return "\(receipt.role) \(Hex.encode(key).prefix(16))…"
                }.joined(separator: ", "))
        record(
            .shardDigest, shardProblems,
            "shards "
                + receipts.map { "\($0.role)=\($0.shardDigest.isEmpty ? "none" : Hex.encode($0.shardDigest))" }
                .joined(separator: ", ") + " as logged and listed")

        record(
            .digestChain,
            zip(receipts, receipts.dropFirst()).enumerated().compactMap { hop, pair in
                pair.0.outputDigest == pair.1.inputDigest
                    ? nil : "hop \(hop) (\(pair.0.role)) output is not hop \(hop + 1) (\(pair.1.role)) input"
            }, "\(max(0, receipts.count - 1)) links: each stage's output is the next stage's input")
        record(
            .requestDigest,
            receipts.first.map { Hex.encode($0.inputDigest) == file.requestDigest.lowercased() } == true
                ? [] : ["the front stage's input digest is not the request's (\(file.requestDigest))"],
            "the front stage's input is the request's digest \(file.requestDigest)")
        record(
            .resultDigest,
            receipts.last.map { Hex.encode($0.outputDigest) == file.resultDigest.lowercased() } == true
                ? [] : ["the last stage's output digest is not the result's (\(file.resultDigest))"],
            "the last stage's output is the result's digest \(file.resultDigest)")
        return ReceiptVerificationReport(results: results)
    }
}

/// Every receipt check with its outcome.
public struct ReceiptVerificationReport: Sendable, Hashable, Codable {
    public struct Result: Sendable, Hashable, Codable {
        public var check: ReceiptVerifier.Check
        public var passed: Bool
        public var detail: String

        public init(check: ReceiptVerifier.Check, passed: Bool, detail: String) {
            self.check = check
            self.passed = passed
            self.detail = detail
        }
    }

    public var results: [Result]

    public init(results: [Result]) {
        self.results = results
    }

    public var passed: Bool { !results.isEmpty && results.allSatisfy(\.passed) }
    public var failedChecks: [ReceiptVerifier.Check] { results.filter { !$0.passed }.map(\.check) }
}
