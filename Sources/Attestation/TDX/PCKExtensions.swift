import SwiftASN1

/// The Intel SGX extensions of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's
/// FMSPC and PCE id, which select its TCB Info, and the TCB it was certified at.
struct PCKExtensions: Sendable {
    static let oid = "1.2.840.113741.1.13.1"

    let fmspc: [UInt8]
    let pceID: [UInt8]
    let pceSVN: Int
    /// The 16 SGX TCB component SVNs (CPUSVN), in order.
    let cpuSVNComponents: [Int]

    init(certificate: X509Certificate) throws(AttestationError) {
        func bad(_ reason: String) -> AttestationError { .malformed(what: "PCK certificate", reason: reason) }
        guard let value = certificate.extensions[Self.oid] else { throw bad("has no SGX extensions (\(Self.oid))") }
        do {
            var fmspc: [UInt8]?
            var pceID: [UInt8]?
            var pceSVN: Int?
            var components = [Int?](repeating: nil, count: 16)
            for (oid, node) in try Self.pairs(try DER.parse(value)) {
                switch oid {
                case "1.2.840.113741.1.13.1.4": fmspc = try Self.octets(node)
                case "1.2.840.113741.1.13.1.3": pceID = try Self.octets(node)
                case "1.2.840.113741.1.13.1.2":
                    for (tcbOID, tcbNode) in try Self.pairs(node) {
                        let prefix = "1.2.840.113741.1.13.1.2."
                        guard tcbOID.hasPrefix(prefix), let index = Int(tcbOID.dropFirst(prefix.count)) else {
                            continue
                        }
                        if (1...16).contains(index) {
                            components[index - 1] = try Int(derEncoded: tcbNode)
                        } else if index == 17 {
                            pceSVN = try Int(derEncoded: tcbNode)
                        }
                    }
                default: continue
                }
            }
            guard let fmspc, fmspc.count == 6 else { throw bad("FMSPC missing or not 6 bytes") }
            guard let pceID, pceID.count == 2 else { throw bad("PCE-ID missing or not 2 bytes") }
            guard let pceSVN else { throw bad("PCESVN missing") }
            let present = components.compactMap { $0 }
            guard present.count == 16 else { throw bad("TCB has \(present.count) of 16 SGX components") }
            self.fmspc = fmspc
            self.pceID = pceID
            self.pceSVN = pceSVN
            self.cpuSVNComponents = present
        } catch let error as AttestationError {
            throw error
        } catch {
            throw bad("SGX extensions do not decode (\(error))")
        }
    }

    /// The (OID, value) pairs of a SEQUENCE OF SEQUENCE { OID, value }.
    private static func pairs(_ node: ASN1Node) throws -> [(String, ASN1Node)] {
        try X509Certificate.children(of: node, expecting: .sequence, what: "SGX extension").map { item in
            let parts = try X509Certificate.children(of: item, expecting: .sequence, what: "SGX extension item")
            guard parts.count == 2 else {
                throw AttestationError.malformed(what: "PCK certificate", reason: "SGX extension item is not a pair")
            }
            return (try ASN1ObjectIdentifier(derEncoded: parts[0]).description, parts[1])
        }
    }

    private static func octets(_ node: ASN1Node) throws -> [UInt8] {
        Array(try ASN1OctetString(derEncoded: node).bytes)
    }
}
