import Wire

/// An Intel TDX DCAP quote, version 4 (TD 1.0 body) or 5 (TD 1.0 or TD 1.5 body), with ECDSA
/// P-256 attestation key and certification data type 6 (QE report) holding type 5 (PCK chain).
///
/// Parsing is strict: every length field must agree with the structure it describes. Two
/// things real quotes carry are tolerated: bytes after the signature data (unsigned; never
/// read), and NUL or whitespace after the last PEM block of the PCK chain.
struct TDXQuote: Sendable {
    static let headerSize = 48
    static let td10BodySize = 584
    static let td15BodySize = 648
    static let qeReportSize = 384
    static let intelQEVendorID: [UInt8] = [
        0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
    ]

    let version: UInt16
    let attestationKeyType: UInt16
    let teeType: UInt32
    let qeVendorID: [UInt8]
    /// Header, body descriptor (v5) and body: what the attestation key signs.
    let signedBytes: [UInt8]
    let body: TDXReportBody
    let bodyType: UInt16
    /// r ‖ s, 32 bytes each, big-endian.
    let quoteSignature: [UInt8]
    /// Uncompressed point without the 0x04 prefix (x ‖ y).
    let attestationKey: [UInt8]
    let qeReport: [UInt8]
    let qeReportSignature: [UInt8]
    let qeAuthData: [UInt8]
    /// The PCK chain as DER certificates, leaf first.
    let pckChain: [[UInt8]]
    /// Unsigned bytes after the signature data.
    let trailingByteCount: Int

    init(bytes: [UInt8]) throws(AttestationError) {
        var reader = ReportReader(bytes, context: "TDX quote")
        func bad(_ reason: String) -> AttestationError { .malformed(what: "TDX quote", reason: reason) }
        guard bytes.count >= Self.headerSize else { throw bad("\(bytes.count) bytes is shorter than the header") }
        version = try reader.u16("version")
        guard version == 4 || version == 5 else { throw bad("version \(version) is not 4 or 5") }
        attestationKeyType = try reader.u16("attestation key type")
        guard attestationKeyType == 2 else {
            throw bad("attestation key type \(attestationKeyType) is not 2 (ECDSA-256 with P-256)")
        }
        teeType = try reader.u32("tee type")
        guard teeType == 0x81 else { throw bad("TEE type 0x\(String(teeType, radix: 16)) is not TDX (0x81)") }
        _ = try reader.take(4, "QE/PCE SVN")
        qeVendorID = try reader.take(16, "QE vendor id")
        _ = try reader.take(20, "user data")

        if version == 4 {
            bodyType = 2
        } else {
            bodyType = try reader.u16("body type")
            let size = try reader.u32("body size")
            let expected: UInt32
            switch bodyType {
            case 2: expected = UInt32(Self.td10BodySize)
            case 3: expected = UInt32(Self.td15BodySize)
            default: throw bad("v5 body type \(bodyType) is not a TD report (2 = TD 1.0, 3 = TD 1.5)")
            }
            guard size == expected else {
                throw bad("v5 body size \(size) is not \(expected) for body type \(bodyType)")
            }
        }
        let bodyBytes = try reader.take(bodyType == 3 ? Self.td15BodySize : Self.td10BodySize, "TD report body")
        body = TDXReportBody(bytes: bodyBytes)
        signedBytes = Array(bytes[0..<reader.offset])

        let signatureDataSize = Int(try reader.u32("signature data size"))
        guard signatureDataSize <= reader.remaining else {
            throw bad("signature data size \(signatureDataSize) exceeds the \(reader.remaining) bytes left")
        }
        var signature = ReportReader(try reader.take(signatureDataSize, "signature data"), context: "TDX quote")
        trailingByteCount = reader.remaining
        quoteSignature = try signature.take(64, "quote signature")
        attestationKey = try signature.take(64, "attestation key")
        let outerType = try signature.u16("certification data type")
        guard outerType == 6 else { throw bad("certification data type \(outerType) is not 6 (QE report)") }
        let outerSize = Int(try signature.u32("certification data size"))
        guard outerSize == signature.remaining else {
            throw bad("certification data size \(outerSize) does not match the \(signature.remaining) bytes present")
        }
        qeReport = try signature.take(Self.qeReportSize, "QE report")
        qeReportSignature = try signature.take(64, "QE report signature")
        let authSize = Int(try signature.u16("QE auth data size"))
        qeAuthData = try signature.take(authSize, "QE auth data")
        let innerType = try signature.u16("PCK certification data type")
        guard innerType == 5 else { throw bad("inner certification data type \(innerType) is not 5 (PCK chain)") }
        let innerSize = Int(try signature.u32("PCK certification data size"))
        guard innerSize == signature.remaining else {
            throw bad(
                "PCK certification data size \(innerSize) does not match the \(signature.remaining) bytes present")
        }
        pckChain = try Self.pemChain(try signature.take(innerSize, "PCK chain"))
    }

    /// The DER certificates of a PEM chain. After the last block only NUL and whitespace may
    /// follow (real quotes end the chain with one NUL); anything else between or around blocks
    /// is refused.
    static func pemChain(_ bytes: [UInt8]) throws(AttestationError) -> [[UInt8]] {
        func bad(_ reason: String) -> AttestationError { .malformed(what: "PCK chain", reason: reason) }
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0 || isSpace(bytes[end - 1]) { end -= 1 }
        let text = bytes[0..<end]
        guard text.allSatisfy({ $0 != 0 && $0 < 0x80 }) else { throw bad("holds bytes that are not PEM text") }
        let string = String(decoding: text, as: UTF8.self)
        let begin = "-----BEGIN CERTIFICATE-----"
        let finish = "-----END CERTIFICATE-----"
        var certificates: [[UInt8]] = []
        var rest = Substring(string)
        while !rest.isEmpty {
            let trimmed = rest.drop { $0.isWhitespace }
            if trimmed.isEmpty { break }
            guard trimmed.hasPrefix(begin) else { throw bad("text outside a CERTIFICATE block") }
            let afterBegin = trimmed.dropFirst(begin.count)
            guard let stop = afterBegin.range(of: finish) else {
                throw bad("block \(certificates.count + 1) has no END line")
            }
            let body = afterBegin[..<stop.lowerBound].filter { !$0.isWhitespace }
            guard let der = Base64Text.decode(String(body)), !der.isEmpty else {
                throw bad("block \(certificates.count + 1) is not base64")
            }
            certificates.append(der)
            rest = afterBegin[stop.upperBound...]
        }
        guard !certificates.isEmpty else { throw bad("holds no certificate") }
        return certificates
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 }
}

/// The TD report body (TD 1.0: 584 bytes; TD 1.5 adds TEE_TCB_SVN2 and MRSERVICETD).
struct TDXReportBody: Sendable {
    let teeTCBSVN: [UInt8]
    let mrSEAM: [UInt8]
    let mrSignerSEAM: [UInt8]
    let seamAttributes: [UInt8]
    let tdAttributes: [UInt8]
    let xfam: [UInt8]
    let mrTD: [UInt8]
    let mrConfigID: [UInt8]
    let mrOwner: [UInt8]
    let mrOwnerConfig: [UInt8]
    let rtmrs: [[UInt8]]
    let reportData: [UInt8]
    let teeTCBSVN2: [UInt8]?
    let mrServiceTD: [UInt8]?

    init(bytes: [UInt8]) {
        func field(_ offset: Int, _ count: Int) -> [UInt8] { Array(bytes[offset..<offset + count]) }
        teeTCBSVN = field(0, 16)
        mrSEAM = field(16, 48)
        mrSignerSEAM = field(64, 48)
        seamAttributes = field(112, 8)
        tdAttributes = field(120, 8)
        xfam = field(128, 8)
        mrTD = field(136, 48)
        mrConfigID = field(184, 48)
        mrOwner = field(232, 48)
        mrOwnerConfig = field(280, 48)
        rtmrs = (0..<4).map { field(328 + 48 * $0, 48) }
        reportData = field(520, 64)
        teeTCBSVN2 = bytes.count >= 648 ? field(584, 16) : nil
        mrServiceTD = bytes.count >= 648 ? field(600, 48) : nil
    }

    /// TUD.DEBUG, bit 0 of TD_ATTRIBUTES: the host can read and change the TD's state.
    var debug: Bool { tdAttributes[0] & 0x01 != 0 }
}

/// The SGX report body of the Quoting Enclave (384 bytes).
struct SGXReportBody: Sendable {
    let cpuSVN: [UInt8]
    let miscSelect: UInt32
    let attributes: [UInt8]
    let mrEnclave: [UInt8]
    let mrSigner: [UInt8]
    let isvProdID: UInt16
    let isvSVN: UInt16
    let reportData: [UInt8]

    init(bytes: [UInt8]) {
        func field(_ offset: Int, _ count: Int) -> [UInt8] { Array(bytes[offset..<offset + count]) }
        func le(_ offset: Int, _ count: Int) -> UInt64 {
            (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
        }
        cpuSVN = field(0, 16)
        miscSelect = UInt32(le(16, 4))
        attributes = field(48, 16)
        mrEnclave = field(64, 32)
        mrSigner = field(128, 32)
        isvProdID = UInt16(le(256, 2))
        isvSVN = UInt16(le(258, 2))
        reportData = field(320, 64)
    }
}

/// Little-endian fields of a report or quote, read with the project's one byte reader (`Wire`),
/// with errors that name the field and the offset.
struct ReportReader {
    private var reader: Wire.ByteReader<[UInt8]>
    /// What is being read ("TDX quote", "GPU report"), for errors.
    let context: String

    init(_ bytes: [UInt8], context: String) {
        reader = Wire.ByteReader(bytes, context: context, byteOrder: .littleEndian)
        self.context = context
    }

    var offset: Int { reader.offset }
    var remaining: Int { reader.remaining }

    mutating func take(_ count: Int, _ what: String) throws(AttestationError) -> [UInt8] {
        do { return try reader.readBytes(count) } catch { throw truncated(count, what) }
    }

    mutating func u16(_ what: String) throws(AttestationError) -> UInt16 {
        do { return try reader.readUInt16() } catch { throw truncated(2, what) }
    }

    mutating func u32(_ what: String) throws(AttestationError) -> UInt32 {
        do { return try reader.readUInt32() } catch { throw truncated(4, what) }
    }

    private func truncated(_ count: Int, _ what: String) -> AttestationError {
        .malformed(
            what: context, reason: "truncated: \(what) needs \(count) bytes at offset \(offset), \(remaining) left")
    }
}
