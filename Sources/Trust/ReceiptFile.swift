public import Foundation
import Sodium
public import Wire

/// A job's receipts as a client keeps them (`sealpipe submit --receipts DIR` writes one per job
/// as `JOBID.receipt.json`): enough to verify, offline, against the key broker's log, which
/// attested stages handled the job, with which keys and model shards, in which order.
///
/// ```json
/// {"format": "sealpipe-receipt-v1", "pipelineID": "minilm", "jobID": "<32 hex>", "epoch": 1,
///  "requestDigest": "<64 hex>", "resultDigest": "<64 hex>", "receipts": ["<hex>", …]}
/// ```
/// `requestDigest` and `resultDigest` are the client's own `ReceiptDigest`s of what it sent
/// and got back (keyed with the job's reply public key, which the file does not hold), so the
/// chain's two ends are tied to this job's request and result.
public struct ReceiptFile: Sendable, Hashable, Codable {
    public static let currentFormat = "sealpipe-receipt-v1"
    /// Largest receipt file `init(json:)` reads.
    public static let maximumFileBytes = 1 << 20

    public var format: String
    public var pipelineID: String
    /// Lower-case hex of the 16-byte job id.
    public var jobID: String
    /// The key epoch the job was sealed under.
    public var epoch: UInt32
    public var requestDigest: String
    public var resultDigest: String
    /// Each stage's receipt (`StageReceipt` encoding), lower-case hex, front stage first.
    public var receipts: [String]

    public init(
        pipelineID: String, jobID: JobID, epoch: UInt32, requestDigest: [UInt8], resultDigest: [UInt8],
        receipts: [StageReceipt]
    ) {
        format = Self.currentFormat
        self.pipelineID = pipelineID
        self.jobID = Hex.encode(jobID.bytes)
        self.epoch = epoch
        self.requestDigest = Hex.encode(requestDigest)
        self.resultDigest = Hex.encode(resultDigest)
        self.receipts = receipts.map { Hex.encode($0.encoded()) }
    }

    /// Pretty, sorted-key JSON.
    public func json() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Decodes a receipt file; what is wrong is named.
    public init(json data: Data) throws(ReceiptFileError) {
        guard data.count <= Self.maximumFileBytes else {
            throw .malformed("the file is \(data.count) bytes (at most \(Self.maximumFileBytes))")
        }
        do {
            self = try JSONDecoder().decode(ReceiptFile.self, from: data)
        } catch {
            throw .malformed("not a receipt file: \(error)")
        }
        guard format == Self.currentFormat else { throw .malformed("format \(format), expected \(Self.currentFormat)") }
    }

    /// The decoded fields, or what does not decode.
    public func decoded() throws(ReceiptFileError) -> (jobID: JobID, receipts: [StageReceipt]) {
        guard let idBytes = Hex.decode(jobID), let id = JobID(bytes: idBytes) else {
            throw .malformed("jobID is not 32 hex digits")
        }
        var receipts: [StageReceipt] = []
        for (index, text) in self.receipts.enumerated() {
            guard let bytes = Hex.decode(text) else { throw .malformed("receipt \(index) is not hex") }
            do {
                receipts.append(try StageReceipt(decoding: bytes))
            } catch {
                throw .malformed("receipt \(index): \(error)")
            }
        }
        return (id, receipts)
    }
}

public enum ReceiptFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case .malformed(let reason): "receipt file: \(reason)"
        }
    }
}
