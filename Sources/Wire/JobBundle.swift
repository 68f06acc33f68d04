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

/// The plaintext of a sealed bundle: one `JobEnvelope` per job, in the order of the table.
///
/// Layout: version u8 (2) · count u16 · per job: job id 16 · the client's expiry u64 · reply
/// key 32 · body (u32 length + bytes). One seal, one open and one signature carry the whole bundle, which is what makes a
/// hop's cryptography cost per bundle instead of per job.
public struct BundleEnvelope: Sendable {
    public static let version: UInt8 = 2
    public var jobs: [JobEnvelope]

    public init(jobs: [JobEnvelope]) {
        precondition((1...BundleTable.maxJobs).contains(jobs.count), "a bundle carries 1...\(BundleTable.maxJobs) jobs")
        self.jobs = jobs
    }

    /// Bytes of the encoding of a bundle whose bodies have these sizes.
    public static func encodedCount(bodyCounts: some Sequence<Int>) -> Int {
        3 + bodyCounts.reduce(0) { $0 + JobEnvelope.overhead - 1 + $1 }
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
            writer.writeLengthPrefixed(view: job.body)
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
        let smallest = JobID.byteCount + JobEnvelope.replyKeyByteCount + 4
        guard reader.remaining >= count * smallest else {
            throw .truncated(what: "bundle envelope", needed: count * smallest, available: reader.remaining)
        }
        var jobs: [JobEnvelope.Parts<Range<Int>>] = []
        jobs.reserveCapacity(count)
        for _ in 0..<count {
            let id = JobID(bytes: try reader.readBytes(JobID.byteCount))!
            let expiresAt = try reader.readUInt64()
            let replyKey = try reader.readBytes(JobEnvelope.replyKeyByteCount)
            let body = try reader.readLengthPrefixedRange(limit: reader.remaining)
            jobs.append(JobEnvelope.Parts(jobID: id, expiresAt: expiresAt, replyKey: replyKey, body: body))
        }
        try reader.expectEnd()
        return jobs
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedCount(bodyCounts: jobs.map(\.body.count)))
        Self.encode(
            jobs.map {
                JobEnvelope.Parts(jobID: $0.jobID, expiresAt: $0.expiresAt, replyKey: $0.replyKey, body: $0.body)
            },
            into: &writer)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(WireError) {
        jobs = try Self.parts(decoding: bytes).map {
            JobEnvelope(jobID: $0.jobID, expiresAt: $0.expiresAt, replyKey: $0.replyKey, body: Array(bytes[$0.body]))
        }
    }
}
