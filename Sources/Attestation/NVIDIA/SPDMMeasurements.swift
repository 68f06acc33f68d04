import Sodium

/// An NVIDIA GPU attestation report as nvtrust's local verifier reads it: the SPDM 1.1
/// GET_MEASUREMENTS request (version, code 0xE0, "signature requested", all blocks, 32-byte
/// nonce, slot) followed by the MEASUREMENTS response (code 0x60, measurement blocks, responder
/// nonce, opaque data, ECDSA P-384 signature).
///
/// Every length is taken from the SPDM structure, never from the end of the buffer: the signature
/// is the 96 bytes after the opaque data; only NUL padding may follow it.
struct SPDMMeasurements: Sendable {
    static let requestSize = 37
    static let signatureSize = 96

    struct Block: Sendable {
        let index: UInt8
        let valueType: UInt8
        let value: [UInt8]
    }

    let requestNonce: [UInt8]
    let responderNonce: [UInt8]
    let blocks: [Block]
    /// Opaque data fields by NVIDIA type (3 driver version, 6 VBIOS version, 20 FWID, …).
    let opaque: [UInt16: [UInt8]]
    /// Request and response up to the signature: what the device key signs.
    let signedBytes: [UInt8]
    /// r ‖ s, 48 bytes each, big-endian.
    let signature: [UInt8]
    /// NUL bytes after the signature (tolerated; unsigned).
    let trailingPadding: Int

    init(bytes: [UInt8]) throws(AttestationError) {
        func bad(_ reason: String) -> AttestationError { .malformed(what: "GPU report", reason: reason) }
        var reader = ReportReader(bytes, context: "GPU report")
        let request = try reader.take(Self.requestSize, "GET_MEASUREMENTS request")
        guard request[0] == 0x10 || request[0] == 0x11 || request[0] == 0x12 else {
            throw bad("request SPDM version 0x\(String(request[0], radix: 16)) is not 1.0–1.2")
        }
        guard request[1] == 0xE0 else {
            throw bad("request code 0x\(String(request[1], radix: 16)) is not GET_MEASUREMENTS")
        }
        guard request[2] & 0x01 == 1 else { throw bad("the request did not ask for a signature") }
        requestNonce = Array(request[4..<36])

        let header = try reader.take(4, "MEASUREMENTS header")
        guard header[0] == request[0] else { throw bad("response SPDM version differs from the request's") }
        guard header[1] == 0x60 else {
            throw bad("response code 0x\(String(header[1], radix: 16)) is not MEASUREMENTS")
        }
        let blockCount = Int(try reader.take(1, "block count")[0])
        let lengthBytes = try reader.take(3, "measurement record length")
        let recordLength = Int(lengthBytes[0]) | Int(lengthBytes[1]) << 8 | Int(lengthBytes[2]) << 16
        var record = ReportReader(try reader.take(recordLength, "measurement record"), context: "GPU report")
        var blocks: [Block] = []
        var seen: Set<UInt8> = []
        while record.remaining > 0 {
            let index = try record.take(1, "block index")[0]
            let specification = try record.take(1, "measurement specification")[0]
            guard specification == 0x01 else { throw bad("block \(index) is not a DMTF measurement") }
            let size = Int(try record.u16("block size"))
            var block = ReportReader(try record.take(size, "measurement block \(index)"), context: "GPU report")
            let valueType = try block.take(1, "value type")[0]
            let valueSize = Int(try block.u16("value size"))
            let value = try block.take(valueSize, "measurement value \(index)")
            guard block.remaining == 0 else { throw bad("block \(index) size disagrees with its value size") }
            guard seen.insert(index).inserted else { throw bad("block index \(index) appears twice") }
            blocks.append(Block(index: index, valueType: valueType, value: value))
        }
        guard blocks.count == blockCount else {
            throw bad("header says \(blockCount) blocks, the record holds \(blocks.count)")
        }
        self.blocks = blocks
        responderNonce = try reader.take(32, "responder nonce")
        let opaqueLength = Int(try reader.u16("opaque data length"))
        var opaqueReader = ReportReader(try reader.take(opaqueLength, "opaque data"), context: "GPU report")
        var opaque: [UInt16: [UInt8]] = [:]
        while opaqueReader.remaining > 0 {
            let type = try opaqueReader.u16("opaque field type")
            let size = Int(try opaqueReader.u16("opaque field size"))
            let value = try opaqueReader.take(size, "opaque field \(type)")
            guard opaque[type] == nil else { throw bad("opaque field \(type) appears twice") }
            opaque[type] = value
        }
        self.opaque = opaque
        signedBytes = Array(bytes[0..<reader.offset])
        signature = try reader.take(Self.signatureSize, "signature")
        // Some collectors pad the hex with NUL bytes (trustee's sample has one); nothing else may follow.
        let rest = try reader.take(reader.remaining, "trailer")
        guard rest.allSatisfy({ $0 == 0 }) else {
            throw bad("\(rest.count) bytes that are not padding follow the signature")
        }
        trailingPadding = rest.count
    }

    /// Text of a NUL-padded opaque field (driver and VBIOS versions).
    func text(_ type: UInt16) -> String? {
        opaque[type].map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    static let driverVersion: UInt16 = 3
    static let vbiosVersion: UInt16 = 6
    static let fwid: UInt16 = 20
    static let featureFlag: UInt16 = 36
}

extension SPDMMeasurements {
    /// The VBIOS version as NVIDIA prints it ("96.00.9f.00.01"), from its 8-byte field.
    var vbiosVersionText: String? {
        guard let raw = opaque[Self.vbiosVersion], raw.count >= 5 else { return nil }
        return [raw[3], raw[2], raw[1], raw[0], raw[4]].map { Hex.encode([$0]) }.joined(separator: ".")
    }
}
