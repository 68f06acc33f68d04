/// The clear job table of a bundle hop: which jobs the sealed bundle carries, in order, and
/// each one's deadline. The gateway reads it to track jobs; the signature covers it, so the
/// gateway cannot add, drop or reorder jobs without the next stage noticing.
///
/// Layout: count u16 (1…`maxJobs`) · per job: job id 16 · deadline u64 (Unix milliseconds).
public struct BundleTable: Sendable, Hashable {
    public static let maxJobs = 4096

    public struct Entry: Sendable, Hashable {
        public var jobID: JobID
        public var deadline: UInt64

        public init(jobID: JobID, deadline: UInt64) {
            self.jobID = jobID
            self.deadline = deadline
        }
    }

    public var entries: [Entry]

    public init(entries: [Entry]) {
        precondition((1...Self.maxJobs).contains(entries.count), "a bundle carries 1...\(Self.maxJobs) jobs")
        self.entries = entries
    }

    /// The latest deadline: the bundle is worth processing until then.
    public var latestDeadline: UInt64 { entries.map(\.deadline).max() ?? 0 }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 2 + entries.count * 24)
        writer.write(UInt16(entries.count))
        for entry in entries {
            writer.write(bytes: entry.jobID.bytes)
            writer.write(entry.deadline)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        var reader = ByteReader(bytes, context: "bundle table")
        let count = Int(try reader.readUInt16())
        guard (1...Self.maxJobs).contains(count) else {
            throw .invalidField(what: "bundle table", reason: "a bundle carries 1...\(Self.maxJobs) jobs, not \(count)")
        }
        // Sized from the count only once the bytes are known to hold that many entries.
        guard reader.remaining >= count * (JobID.byteCount + 8) else {
            throw .truncated(what: "bundle table", needed: count * (JobID.byteCount + 8), available: reader.remaining)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var seen = Set<JobID>()
        for _ in 0..<count {
            let id = JobID(bytes: try reader.readBytes(JobID.byteCount))!
            guard seen.insert(id).inserted else {
                throw .invalidField(what: "bundle table", reason: "job \(id) is listed twice")
            }
            entries.append(Entry(jobID: id, deadline: try reader.readUInt64()))
        }
        try reader.expectEnd()
        self.entries = entries
    }
}

/// The plaintext of a sealed bundle: one job per entry of the table, in its order.
///
/// Layout: version u8 (3) · count u16 · per job: job id 16 · the client's expiry u64 · reply
/// key 32 · options u8 · body (u32 length + bytes) · receipts so far (u32 length + a
/// `ReceiptChain`, or nothing when the job asked for none). One seal, one open and one
/// signature carry the whole bundle, which is what makes a hop's cryptography cost per bundle
/// instead of per job.
public struct BundleEnvelope: Sendable {
    public static let version: UInt8 = 3
    /// Bytes per job besides its body and receipts.
    static let perJobOverhead = JobID.byteCount + 8 + JobEnvelope.replyKeyByteCount + 1 + 4 + 4
    /// Longest receipt chain a job may carry between stages.
    public static let maximumReceiptBytes = 64 * 1024

    public var jobs: [JobEnvelope.Parts<[UInt8]>]

    public init(jobs: [JobEnvelope.Parts<[UInt8]>]) {
        precondition((1...BundleTable.maxJobs).contains(jobs.count), "a bundle carries 1...\(BundleTable.maxJobs) jobs")
        self.jobs = jobs
    }

    /// Bytes of the encoding of a bundle whose jobs have bodies and receipts of these sizes.
    public static func encodedCount(sizes: some Sequence<(body: Int, receipts: Int)>) -> Int {
        3 + sizes.reduce(0) { $0 + perJobOverhead + $1.body + $1.receipts }
    }

    /// Encodes a bundle of `jobs` (1…`BundleTable.maxJobs`) into `writer`.
    public static func encode<Body: ByteView>(_ jobs: [JobEnvelope.Parts<Body>], into writer: inout some ByteWriting) {
        precondition((1...BundleTable.maxJobs).contains(jobs.count), "a bundle carries 1...\(BundleTable.maxJobs) jobs")
        writer.write(version)
        writer.write(UInt16(jobs.count))
        for job in jobs {
            writer.write(bytes: job.jobID.bytes)
            writer.write(job.expiresAt)
            writer.write(bytes: job.replyKey)
            writer.write(job.options.rawValue)
            writer.writeLengthPrefixed(view: job.body)
            writer.writeLengthPrefixed(job.receipts)
        }
    }

    /// Decodes a bundle, leaving each body where it lies in `bytes`.
    public static func parts<Bytes: RandomAccessCollection>(decoding bytes: Bytes) throws(WireError)
        -> [JobEnvelope.Parts<Range<Int>>]
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var reader = ByteReader(bytes, context: "bundle envelope")
        let version = try reader.readUInt8()
        guard version == Self.version else { throw .unsupportedVersion(what: "bundle envelope", version: version) }
        let count = Int(try reader.readUInt16())
        guard (1...BundleTable.maxJobs).contains(count) else {
            throw .invalidField(
                what: "bundle envelope", reason: "a bundle carries 1...\(BundleTable.maxJobs) jobs, not \(count)")
        }
        guard reader.remaining >= count * perJobOverhead else {
            throw .truncated(what: "bundle envelope", needed: count * perJobOverhead, available: reader.remaining)
        }
        var jobs: [JobEnvelope.Parts<Range<Int>>] = []
        jobs.reserveCapacity(count)
        for _ in 0..<count {
            let id = JobID(bytes: try reader.readBytes(JobID.byteCount))!
            let expiresAt = try reader.readUInt64()
            let replyKey = try reader.readBytes(JobEnvelope.replyKeyByteCount)
            let options = try JobOptions(validating: reader.readUInt8())
            let body = try reader.readLengthPrefixedRange(limit: reader.remaining)
            let receipts = try reader.readLengthPrefixed(limit: Self.maximumReceiptBytes)
            guard options.contains(.receipts) || receipts.isEmpty else {
                throw .invalidField(what: "bundle envelope", reason: "receipts for a job that asked for none")
            }
            jobs.append(
                JobEnvelope.Parts(
                    jobID: id, expiresAt: expiresAt, replyKey: replyKey, options: options, body: body,
                    receipts: receipts))
        }
        try reader.expectEnd()
        return jobs
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedCount(sizes: jobs.map { ($0.body.count, $0.receipts.count) }))
        Self.encode(jobs, into: &writer)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        jobs = try Self.parts(decoding: bytes).map {
            JobEnvelope.Parts(
                jobID: $0.jobID, expiresAt: $0.expiresAt, replyKey: $0.replyKey, options: $0.options,
                body: Array(bytes[$0.body]), receipts: $0.receipts)
        }
    }
}
