import Foundation
import Sodium

/// Intel DCAP collateral for one platform (FMSPC), in the JSON layout Intel's PCCS returns and
/// dcap-qvl stores: the PCK and root CRLs, the TCB Info and QE Identity with their signatures and
/// issuer chains. Signed JSON is kept as the exact bytes that were signed.
public struct TDXCollateral: Sendable, Hashable {
    public var pckCRLIssuerChain: String
    public var rootCACRL: [UInt8]
    public var pckCRL: [UInt8]
    public var tcbInfoIssuerChain: String
    /// The exact bytes of the `tcbInfo` object that `tcbInfoSignature` covers.
    public var tcbInfo: [UInt8]
    /// r ‖ s (64 bytes), ECDSA P-256 with SHA-256 by the TCB Signing key.
    public var tcbInfoSignature: [UInt8]
    public var qeIdentityIssuerChain: String
    /// The exact bytes of the `enclaveIdentity` object that `qeIdentitySignature` covers.
    public var qeIdentity: [UInt8]
    public var qeIdentitySignature: [UInt8]

    public init(
        pckCRLIssuerChain: String, rootCACRL: [UInt8], pckCRL: [UInt8], tcbInfoIssuerChain: String, tcbInfo: [UInt8],
        tcbInfoSignature: [UInt8], qeIdentityIssuerChain: String, qeIdentity: [UInt8], qeIdentitySignature: [UInt8]
    ) {
        self.pckCRLIssuerChain = pckCRLIssuerChain
        self.rootCACRL = rootCACRL
        self.pckCRL = pckCRL
        self.tcbInfoIssuerChain = tcbInfoIssuerChain
        self.tcbInfo = tcbInfo
        self.tcbInfoSignature = tcbInfoSignature
        self.qeIdentityIssuerChain = qeIdentityIssuerChain
        self.qeIdentity = qeIdentity
        self.qeIdentitySignature = qeIdentitySignature
    }

    /// The nine fields of the PCCS / dcap-qvl layout. CRLs are hex DER (as dcap-qvl stores them)
    /// or PEM; signatures are hex.
    public init(json: [UInt8]) throws(AttestationError) {
        func bad(_ reason: String) -> AttestationError { .malformed(what: "collateral", reason: reason) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
            throw bad("not a JSON object")
        }
        func string(_ key: String) throws(AttestationError) -> String {
            guard let value = object[key] as? String else { throw bad("field \(key) is missing or not a string") }
            return value
        }
        func hex(_ key: String) throws(AttestationError) -> [UInt8] {
            guard let bytes = Hex.decode(spaced: try string(key)) else { throw bad("field \(key) is not hex") }
            return bytes
        }
        func crl(_ key: String) throws(AttestationError) -> [UInt8] {
            let text = try string(key)
            if let bytes = Hex.decode(spaced: text), !bytes.isEmpty { return bytes }
            // An empty block is refused: stored as empty hex, it would not read back.
            if let der = Self.pemBlock(text, label: "X509 CRL"), !der.isEmpty { return der }
            if let der = Base64Text.decode(text.filter { !$0.isWhitespace }), der.first == 0x30 { return der }
            throw bad("field \(key) is neither hex DER, base64 DER nor a PEM X509 CRL")
        }
        pckCRLIssuerChain = try string("pck_crl_issuer_chain")
        rootCACRL = try crl("root_ca_crl")
        pckCRL = try crl("pck_crl")
        tcbInfoIssuerChain = try string("tcb_info_issuer_chain")
        tcbInfo = Array(try string("tcb_info").utf8)
        tcbInfoSignature = try hex("tcb_info_signature")
        qeIdentityIssuerChain = try string("qe_identity_issuer_chain")
        qeIdentity = Array(try string("qe_identity").utf8)
        qeIdentitySignature = try hex("qe_identity_signature")
    }

    /// The same layout, for `sealpipe collateral import` to store.
    public func json() -> [UInt8] {
        let object: [String: String] = [
            "pck_crl_issuer_chain": pckCRLIssuerChain, "root_ca_crl": Hex.encode(rootCACRL),
            "pck_crl": Hex.encode(pckCRL), "tcb_info_issuer_chain": tcbInfoIssuerChain,
            "tcb_info": String(decoding: tcbInfo, as: UTF8.self),
            "tcb_info_signature": Hex.encode(tcbInfoSignature),
            "qe_identity_issuer_chain": qeIdentityIssuerChain,
            "qe_identity": String(decoding: qeIdentity, as: UTF8.self),
            "qe_identity_signature": Hex.encode(qeIdentitySignature),
        ]
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        return [UInt8](data ?? Data())
    }

    /// Collateral from Intel PCS responses as served over HTTP: the TCB Info response
    /// (`{"tcbInfo":{…},"signature":"…"}`) and QE Identity response, their issuer chain, the PCK
    /// CRL with its issuer chain, and the root CA CRL (each DER or PEM).
    public init(
        tcbInfoResponse: [UInt8], qeIdentityResponse: [UInt8], tcbIssuerChain: String, pckCRL: [UInt8],
        pckCRLIssuerChain: String, rootCACRL: [UInt8]
    ) throws(AttestationError) {
        func bad(_ reason: String) -> AttestationError { .malformed(what: "collateral", reason: reason) }
        guard let tcbInfo = RawJSON.objectValue(of: "tcbInfo", in: tcbInfoResponse),
            let tcbSignature = RawJSON.stringValue(of: "signature", in: tcbInfoResponse).flatMap(Hex.decode(spaced:))
        else { throw bad("TCB Info response has no tcbInfo object and hex signature") }
        guard let qeIdentity = RawJSON.objectValue(of: "enclaveIdentity", in: qeIdentityResponse),
            let qeSignature = RawJSON.stringValue(of: "signature", in: qeIdentityResponse).flatMap(Hex.decode(spaced:))
        else { throw bad("QE Identity response has no enclaveIdentity object and hex signature") }
        func der(_ bytes: [UInt8]) -> [UInt8] {
            Self.pemBlock(String(decoding: bytes, as: UTF8.self), label: "X509 CRL") ?? bytes
        }
        self.init(
            pckCRLIssuerChain: pckCRLIssuerChain, rootCACRL: der(rootCACRL), pckCRL: der(pckCRL),
            tcbInfoIssuerChain: tcbIssuerChain, tcbInfo: tcbInfo, tcbInfoSignature: tcbSignature,
            qeIdentityIssuerChain: tcbIssuerChain, qeIdentity: qeIdentity, qeIdentitySignature: qeSignature)
    }

    /// The DER inside the first PEM block labelled `label` ("X509 CRL"), if any.
    public static func pemBlock(_ text: String, label: String) -> [UInt8]? {
        guard let start = text.range(of: "-----BEGIN \(label)-----"),
            let end = text.range(of: "-----END \(label)-----", range: start.upperBound..<text.endIndex)
        else { return nil }
        return Base64Text.decode(String(text[start.upperBound..<end.lowerBound].filter { !$0.isWhitespace }))
    }
}

/// Finds the exact bytes of a top-level member's value in a JSON object, so a signature over
/// "the object as it appears in the file" can be checked without re-serialising.
enum RawJSON {
    static func objectValue(of key: String, in bytes: [UInt8]) -> [UInt8]? {
        guard let range = valueRange(of: key, in: bytes), bytes[range.lowerBound] == UInt8(ascii: "{") else {
            return nil
        }
        return Array(bytes[range])
    }

    static func stringValue(of key: String, in bytes: [UInt8]) -> String? {
        guard let range = valueRange(of: key, in: bytes), range.count >= 2,
            bytes[range.lowerBound] == UInt8(ascii: "\"")
        else { return nil }
        return String(decoding: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)], as: UTF8.self)
    }

    /// The byte range of `key`'s value among the members of the outermost object.
    private static func valueRange(of key: String, in bytes: [UInt8]) -> Range<Int>? {
        var index = 0
        func skipSpace() { while index < bytes.count, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[index]) { index += 1 } }
        /// Index just past the value starting at `start`, or nil if it does not end.
        func valueEnd(_ start: Int) -> Int? {
            var i = start
            var depth = 0
            var inString = false
            while i < bytes.count {
                let c = bytes[i]
                if inString {
                    if c == UInt8(ascii: "\\") {
                        i += 1
                    } else if c == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 { return i + 1 }
                    }
                } else {
                    switch c {
                    case UInt8(ascii: "\""): inString = true
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 { return i + 1 }
                        if depth < 0 { return i }
                    case UInt8(ascii: ","): if depth == 0 { return i }
                    default: break
                    }
                }
                i += 1
            }
            return depth == 0 && !inString ? i : nil
        }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        index += 1
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\""), let keyEnd = valueEnd(index) else {
                return nil
            }
            let name = String(decoding: bytes[(index + 1)..<(keyEnd - 1)], as: UTF8.self)
            index = keyEnd
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpace()
            guard index < bytes.count, let end = valueEnd(index) else { return nil }
            var trimmedEnd = end
            while trimmedEnd > index, [0x20, 0x0a, 0x0d, 0x09].contains(bytes[trimmedEnd - 1]) { trimmedEnd -= 1 }
            if name == key { return index..<trimmedEnd }
            index = end
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
    }
}
