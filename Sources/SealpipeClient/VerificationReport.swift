public import Foundation
public import Sodium
public import Trust

/// Every check a client made for one submission, with its outcome and the values it compared:
/// the manifest's (signature, expiry, tree head, inclusion proof, policy digest and summary,
/// model version, measurements, simulated evidence), each result's signature, and each job's
/// receipt checks. `sealpipe submit --verify-report FILE.json` writes it; `Scripts/client.py`
/// writes the same layout.
public struct VerificationReport: Sendable, Codable {
    /// One check: `passed`, `failed`, or `skipped` (nothing given to compare with).
    public struct Check: Sendable, Codable, Hashable {
        public var check: String
        public var outcome: String
        public var detail: String

        public init(check: String, passed: Bool?, detail: String) {
            self.check = check
            outcome = passed.map { $0 ? "passed" : "failed" } ?? "skipped"
            self.detail = detail
        }
    }

    /// What the manifest checks compared.
    public struct ManifestValues: Sendable, Codable {
        public var pinnedBrokerKey: String
        public var pipelineID: String
        public var version: UInt8
        public var issuedAt: UInt64
        public var expiresAt: UInt64
        public var policyDigest: String
        public var policyEntryIndex: UInt64
        public var treeSize: UInt64
        public var rootHash: String
        public var modelVersion: String
        public var frontKeyEpoch: UInt64
        public var resultSigner: String
    }

    public struct Job: Sendable, Codable {
        public var index: Int
        public var jobID: String?
        /// `result-signature` (and, with receipts, every receipt check), or the job's error.
        public var checks: [Check]
        public var receiptFile: String?
    }

    public var format = "sealpipe-verification-report-v1"
    public var checkedAt: String
    public var manifest: ManifestValues
    public var manifestChecks: [Check]
    public var jobs: [Job] = []

    /// The report's manifest part.
    public init(manifest: PipelineManifest, report: ManifestVerificationReport, pinnedBrokerKey: SigningPublicKey) {
        checkedAt = ISO8601DateFormatter().string(from: Date())
        self.manifest = ManifestValues(
            pinnedBrokerKey: Hex.encode(pinnedBrokerKey.bytes), pipelineID: manifest.pipelineID,
            version: manifest.version, issuedAt: manifest.issuedAt, expiresAt: manifest.expiresAt,
            policyDigest: Hex.encode(manifest.policyDigest), policyEntryIndex: manifest.policyEntryIndex,
            treeSize: manifest.treeHead.treeSize, rootHash: Hex.encode(manifest.treeHead.rootHash),
            modelVersion: manifest.modelVersion, frontKeyEpoch: manifest.frontKey.epoch,
            resultSigner: "\(manifest.resultRole) \(Hex.encode(manifest.resultSigner.bytes))")
        manifestChecks = report.results.map { Check(check: $0.check.rawValue, passed: $0.passed, detail: $0.detail) }
    }

    /// Adds one job's checks: its result signature (a result that fails it never reaches the
    /// caller as a success) and, when it asked for them, its receipts' checks.
    public mutating func add(
        index: Int, answer: Result<PipelineClient.JobOutput, ClientError>, resultSigner: String,
        receipts: (file: String, report: ReceiptVerificationReport)?
    ) {
        var checks: [Check] = []
        var jobID: String?
        switch answer {
        case .success(let output):
            jobID = output.receipts?.jobID
            checks.append(
                Check(check: "result-signature", passed: true, detail: "result signed by \(resultSigner)"))
        case .failure(.badResultSignature):
            checks.append(
                Check(check: "result-signature", passed: false, detail: "result not signed by \(resultSigner)"))
        case .failure(let error):
            checks.append(Check(check: "result", passed: false, detail: "\(error)"))
        }
        if let receipts {
            checks += receipts.report.results.map {
                Check(check: "receipt-\($0.check.rawValue)", passed: $0.passed, detail: $0.detail)
            }
        }
        jobs.append(Job(index: index, jobID: jobID, checks: checks, receiptFile: receipts?.file))
    }

    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
