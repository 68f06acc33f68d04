import Testing
import Wire

@Suite("Wire codecs")
struct WireTests {
    let jobID = JobID(bytes: Array(0..<16))!

    @Test func headerRoundTripsWithItsDocumentedLayout() throws {
        let header = MessageHeader(
            type: .work, code: 0, epoch: 7, jobID: jobID, deadline: 0x0102_0304_0506_0708, hop: 2)
        let bytes = header.encoded()
        #expect(bytes.count == 36)
        #expect(Array(bytes[0..<8]) == [1, 4, 0, 0, 7, 0, 0, 0])
        #expect(Array(bytes[8..<24]) == Array(0..<16))
        #expect(Array(bytes[24..<32]) == [8, 7, 6, 5, 4, 3, 2, 1])
        #expect(Array(bytes[32..<36]) == [2, 0, 0, 0])
        #expect(try MessageHeader(decoding: bytes) == header)
    }

    @Test func malformedHeadersAreRefusedWithTheReason() {
        let good = MessageHeader(type: .submit, jobID: jobID).encoded()
        #expect(throws: WireError.truncated(what: "header", needed: 36, available: 35)) {
            try MessageHeader(decoding: Array(good.dropLast()))
        }
        #expect(throws: WireError.trailingBytes(what: "header", count: 1)) { try MessageHeader(decoding: good + [0]) }
        var version = good
        version[0] = 9
        #expect(throws: WireError.unsupportedVersion(what: "header", version: 9)) {
            try MessageHeader(decoding: version)
        }
        var type = good
        type[1] = 200
        #expect(throws: WireError.unknownType(200)) { try MessageHeader(decoding: type) }
        var reserved = good
        reserved[35] = 1
        #expect(throws: WireError.self) { try MessageHeader(decoding: reserved) }
        #expect(throws: WireError.self) { try MessageHeader(decoding: []) }
    }

    @Test func messagesCheckTheirFrameCount() throws {
        let header = MessageHeader(type: .submit, jobID: jobID)
        let message = try PipelineMessage(frames: [header.encoded(), [1, 2, 3]])
        #expect(message.body == [[1, 2, 3]])
        #expect(throws: WireError.wrongFrameCount(what: "submit message", expected: "2", actual: 3)) {
            try PipelineMessage(frames: [header.encoded(), [1], [2]])
        }
        #expect(throws: WireError.self) { try PipelineMessage(frames: []) }
        let work = MessageHeader(type: .work, jobID: jobID)
        #expect(throws: WireError.self) { try PipelineMessage(frames: [work.encoded(), [1]]) }
        let error = PipelineMessage.error(.busy, jobID: jobID)
        #expect(error.header.code == ErrorCode.busy.rawValue)
        #expect(String(decoding: error.body[0], as: UTF8.self) == ErrorCode.busy.defaultMessage)
    }

    @Test func envelopeAndResultRoundTripAndRefuseDamage() throws {
        let envelope = JobEnvelope(
            jobID: jobID, expiresAt: 1_700_000_123_456, replyKey: Array(repeating: 9, count: 32),
            body: Array("text".utf8))
        let bytes = envelope.encoded()
        #expect(bytes.count == JobEnvelope.overhead + 4)
        #expect(Array(bytes[17..<25]) == [0x40, 0x4a, 0xe7, 0xcf, 0x8b, 0x01, 0x00, 0x00], "the expiry, little-endian")
        let decoded = try JobEnvelope(decoding: bytes)
        #expect(decoded.jobID == jobID)
        #expect(decoded.expiresAt == 1_700_000_123_456)
        #expect(decoded.replyKey == envelope.replyKey)
        #expect(decoded.body == envelope.body)
        #expect(throws: WireError.self) { try JobEnvelope(decoding: Array(bytes.dropLast())) }
        #expect(throws: WireError.trailingBytes(what: "job envelope", count: 1)) {
            try JobEnvelope(decoding: bytes + [0])
        }
        var lying = bytes
        lying[57] = 0xff  // body length claims far more than is there
        #expect(throws: WireError.self) { try JobEnvelope(decoding: lying) }
        // Version 1 carried no expiry, so nothing bounded its replay: refused.
        var first = bytes
        first[0] = 1
        #expect(throws: WireError.unsupportedVersion(what: "job envelope", version: 1)) {
            try JobEnvelope(decoding: first)
        }

        let result = JobResult(jobID: jobID, body: [1, 2, 3])
        let reopened = try JobResult(decoding: result.encoded())
        #expect(reopened.jobID == jobID && reopened.body == [1, 2, 3])
    }

    @Test func announcementsRoundTrip() throws {
        let certificate = RoleCertificate(
            pipelineID: "demo", role: "shard-1", epoch: 6, signingKey: Array(repeating: 3, count: 32), notAfter: 77,
            signature: Array(repeating: 4, count: 64))
        #expect(try RoleCertificate(decoding: certificate.encoded()) == certificate)
        #expect(throws: WireError.self) { try RoleCertificate(decoding: Array(certificate.encoded().dropLast())) }
        let announcement = ReplicaAnnouncement(
            role: "shard-1", replica: 3, instance: 42, capacity: 64, epochs: [5, 6], timestamp: 1234,
            certificate: certificate.encoded(), signature: Array(repeating: 5, count: 64))
        #expect(try ReplicaAnnouncement(decoding: announcement.encoded()) == announcement)
        #expect(throws: WireError.self) { try ReplicaAnnouncement(decoding: Array(announcement.encoded().dropLast())) }
        #expect(throws: WireError.self) {
            var empty = announcement
            empty.role = ""
            return try ReplicaAnnouncement(decoding: empty.encoded())
        }
        // The signed bytes bind the connection's routing identity and every field.
        let base = announcement.signedBytes(routingID: Array("a".utf8))
        #expect(base != announcement.signedBytes(routingID: Array("b".utf8)))
        var later = announcement
        later.timestamp += 1
        #expect(base != later.signedBytes(routingID: Array("a".utf8)))
        var bigger = announcement
        bigger.capacity += 1
        #expect(base != bigger.signedBytes(routingID: Array("a".utf8)))
        // The certificate's signed bytes cover every field but its signature.
        var other = certificate
        other.epoch = 7
        #expect(other.signedBytes != certificate.signedBytes)
        other = certificate
        other.signature = []
        #expect(other.signedBytes == certificate.signedBytes)
    }

    @Test func signedBytesBindRolesJobEpochAndDeadline() {
        let header = MessageHeader(type: .forward, epoch: 3, jobID: jobID, deadline: 99)
        let base = HopSignature.signedBytes(from: "shard-0", to: "shard-1", header: header, ciphertext: [1, 2])
        #expect(base != HopSignature.signedBytes(from: "shard-1", to: "shard-0", header: header, ciphertext: [1, 2]))
        #expect(
            base != HopSignature.signedBytes(from: "shard-0", to: "postprocessor", header: header, ciphertext: [1, 2]))
        var later = header
        later.deadline = 100
        #expect(base != HopSignature.signedBytes(from: "shard-0", to: "shard-1", header: later, ciphertext: [1, 2]))
        var otherEpoch = header
        otherEpoch.epoch = 4
        #expect(
            base != HopSignature.signedBytes(from: "shard-0", to: "shard-1", header: otherEpoch, ciphertext: [1, 2]))
        #expect(base != HopSignature.signedBytes(from: "shard-0", to: "shard-1", header: header, ciphertext: [1, 3]))
        // "ab"+"c" and "a"+"bc" must not collide: names are length-prefixed.
        #expect(
            HopSignature.signedBytes(from: "ab", to: "c", header: header, ciphertext: [])
                != HopSignature.signedBytes(from: "a", to: "bc", header: header, ciphertext: []))
    }

    @Test func bundleTablesAndEnvelopesRoundTripAndRefuseDamage() throws {
        let other = JobID(bytes: Array(16..<32))!
        let table = BundleTable(entries: [.init(jobID: jobID, deadline: 5), .init(jobID: other, deadline: 9)])
        let bytes = table.encoded()
        #expect(bytes.count == 2 + 2 * 24)
        #expect(try BundleTable(decoding: bytes) == table)
        #expect(table.latestDeadline == 9)
        #expect(throws: WireError.self) { try BundleTable(decoding: Array(bytes.dropLast())) }
        #expect(throws: WireError.trailingBytes(what: "bundle table", count: 1)) {
            try BundleTable(decoding: bytes + [0])
        }
        #expect(throws: WireError.invalidField(what: "bundle table", reason: "a bundle carries 1...4096 jobs, not 0")) {
            try BundleTable(decoding: [0, 0])
        }
        // A count the bytes cannot hold is refused before room for it is made.
        #expect(throws: WireError.truncated(what: "bundle table", needed: 4096 * 24, available: 24)) {
            try BundleTable(decoding: [0x00, 0x10] + Array(bytes.dropFirst(2).prefix(24)))
        }
        #expect(throws: WireError.truncated(what: "bundle envelope", needed: 4096 * 65, available: 0)) {
            try BundleEnvelope(decoding: [BundleEnvelope.version, 0x00, 0x10])
        }
        let twice = BundleTable(entries: [.init(jobID: jobID, deadline: 5)]).encoded()
        #expect(throws: WireError.invalidField(what: "bundle table", reason: "job \(jobID) is listed twice")) {
            try BundleTable(decoding: [2, 0] + Array(twice.dropFirst(2)) + Array(twice.dropFirst(2)))
        }

        let envelope = BundleEnvelope(jobs: [
            JobEnvelope.Parts(jobID: jobID, expiresAt: 7, replyKey: Array(repeating: 1, count: 32), body: [1, 2, 3]),
            JobEnvelope.Parts(
                jobID: other, expiresAt: 8, replyKey: Array(repeating: 2, count: 32), options: .receipts, body: [],
                receipts: [0]),
        ])
        let sealed = envelope.encoded()
        let decoded = try BundleEnvelope(decoding: sealed)
        #expect(decoded.jobs.map(\.jobID) == [jobID, other])
        #expect(decoded.jobs.map(\.expiresAt) == [7, 8])
        #expect(decoded.jobs.map(\.body) == [[1, 2, 3], []])
        #expect(decoded.jobs[1].replyKey == Array(repeating: 2, count: 32))
        #expect(decoded.jobs.map(\.options) == [[], .receipts])
        #expect(decoded.jobs.map(\.receipts) == [[], [0]])
        // Decoded in place (as a stage does over secret memory): the bodies are ranges of the
        // buffer, and encoding into a fixed buffer gives the very bytes of the array encoding.
        let parts = try sealed.withUnsafeBytes { try BundleEnvelope.parts(decoding: $0) }
        #expect(parts.map { Array(sealed[$0.body]) } == [[1, 2, 3], []])
        #expect(parts.map(\.jobID) == [jobID, other])
        var fixed = [UInt8](
            repeating: 0, count: BundleEnvelope.encodedCount(sizes: [(body: 3, receipts: 0), (body: 0, receipts: 1)]))
        fixed.withUnsafeMutableBytes { raw in
            var writer = RawByteWriter(raw)
            BundleEnvelope.encode(envelope.jobs, into: &writer)
            #expect(writer.isFull)
        }
        #expect(fixed == sealed)
        #expect(throws: WireError.self) { try BundleEnvelope(decoding: Array(sealed.dropLast())) }
        #expect(throws: WireError.trailingBytes(what: "bundle envelope", count: 2)) {
            try BundleEnvelope(decoding: sealed + [0, 0])
        }
        var lying = sealed
        lying[3 + 57] = 0xff  // the first body's length claims far more than is there
        #expect(throws: WireError.self) { try BundleEnvelope(decoding: lying) }
        var version = sealed
        version[0] = 1
        #expect(throws: WireError.unsupportedVersion(what: "bundle envelope", version: 1)) {
            try BundleEnvelope(decoding: version)
        }
    }

    @Test func bundleMessagesHaveFourFrames() throws {
        for type in [MessageType.workBundle, .forwardBundle] {
            let header = MessageHeader(type: type, jobID: jobID).encoded()
            #expect(try PipelineMessage(frames: [header, [1], [2], [3]]).body.count == 3)
            #expect(throws: WireError.wrongFrameCount(what: "\(type) message", expected: "4", actual: 3)) {
                try PipelineMessage(frames: [header, [1], [2]])
            }
        }
    }

    @Test func bundleSignedBytesBindRolesHopBundleEpochDeadlineTableAndTheBoxsKeyAndTag() throws {
        let header = MessageHeader(type: .forwardBundle, epoch: 3, jobID: jobID, deadline: 99)
        let table = BundleTable(entries: [.init(jobID: jobID, deadline: 99)]).encoded()
        let box = Array(repeating: UInt8(7), count: 80)
        func bytes(
            _ header: MessageHeader, _ table: [UInt8], _ box: [UInt8], from: String = "shard-0", to: String = "shard-1",
            hop: UInt16 = 2
        ) -> [UInt8]? {
            HopSignature.bundleSignedBytes(
                from: from, to: to, receivingHop: hop, header: header, table: table, sealedBox: box)
        }
        let base = try #require(bytes(header, table, box))
        // The receiving hop is signed: a bundle for hop 2 does not verify as hop 3, 0 or 65535.
        for hop: UInt16 in [0, 1, 3, 4242, 65535] { #expect(base != bytes(header, table, box, hop: hop)) }
        #expect(base.starts(with: Array("sealpipe/bundle/v2".utf8)))
        #expect(base != bytes(header, table, box, from: "shard-1", to: "shard-0"))
        #expect(base != bytes(header, table, box, to: "postprocessor"))
        var later = header
        later.deadline = 100
        #expect(base != bytes(later, table, box))
        var otherEpoch = header
        otherEpoch.epoch = 4
        #expect(base != bytes(otherEpoch, table, box))
        var otherBundle = header
        otherBundle.jobID = JobID(bytes: Array(repeating: 0, count: 16))!
        #expect(base != bytes(otherBundle, table, box))
        #expect(base != bytes(header, BundleTable(entries: [.init(jobID: jobID, deadline: 98)]).encoded(), box))
        // The box's ephemeral key and tag (its first 48 bytes) are signed; the rest is
        // authenticated by that tag when the receiver opens the box.
        for index in [0, 31, 32, 47] {
            var changed = box
            changed[index] ^= 1
            #expect(base != bytes(header, table, changed))
        }
        var body = box
        body[48] ^= 1
        #expect(base == bytes(header, table, body))
        #expect(bytes(header, table, Array(box.prefix(47))) == nil)
        // The gateway rewrites the hop index, so it is not signed.
        var otherHop = header
        otherHop.hop = 2
        #expect(base == bytes(otherHop, table, box))
        // A result signature and a bundle signature never share bytes: their domains differ.
        #expect(!base.starts(with: HopSignature.domain))
    }

    /// One reader and writer for both byte orders: the wire's layouts are little-endian, the trust
    /// layer's canonical forms big-endian.
    @Test func integersInEitherByteOrder() throws {
        let cases: [(ByteOrder, [UInt8])] = [(.littleEndian, [4, 3, 2, 1]), (.bigEndian, [1, 2, 3, 4])]
        for (order, expected) in cases {
            var writer = ByteWriter(byteOrder: order)
            writer.write(UInt32(0x0102_0304))
            writer.write(UInt16(0x0506))
            #expect(Array(writer.bytes.prefix(4)) == expected)
            var reader = ByteReader(writer.bytes, context: "test", byteOrder: order)
            #expect(try reader.readUInt32() == 0x0102_0304)
            #expect(try reader.readUInt16() == 0x0506)
            try reader.expectEnd()
        }
    }

    @Test func randomJobIDsAreSixteenBytesAndDistinct() {
        let ids = (0..<1000).map { _ in JobID.random() }
        #expect(ids.allSatisfy { $0.bytes.count == 16 })
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids.flatMap(\.bytes)).count > 200, "every byte position draws from the whole range")
    }

    @Test func errorCodesAreStable() {
        #expect(ErrorCode.allCases.map(\.rawValue) == Array(1...13))
        #expect(Set(ErrorCode.allCases.map(\.name)).count == ErrorCode.allCases.count)
    }
}
