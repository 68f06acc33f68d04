import Sodium

/// The certificate table the host hands an SEV-SNP guest with an extended report (configfs-tsm
/// `auxblob`, `SNP_GET_EXT_REPORT`): 24-byte entries {GUID, offset u32, length u32} ended by an
/// all-zero entry, offsets counted from the table's start.
public enum SEVSNPCertificateTable {
    /// Well-known GUIDs (GHCB spec), in their in-table (little-endian field) byte order.
    public enum Entry: String, Sendable, CaseIterable {
        case vcek = "63da758d-e664-4564-adc5-f4b93be8accd"
        case vlek = "a8074bc2-a25a-483e-aae6-39c045a0b8a1"
        case ask = "4ab7b379-bbac-4fe4-a02f-05aef327c782"
        case ark = "c0b406a4-a803-4952-9743-3fb6014cd0ae"

        /// The GUID as stored: time_low, time_mid, time_hi little-endian, the rest as written.
        public var tableBytes: [UInt8] {
            let hex = Hex.decode(spaced: rawValue.replacingOccurrences(of: "-", with: ""))!
            return Array(hex[0..<4].reversed()) + Array(hex[4..<6].reversed()) + Array(hex[6..<8].reversed())
                + Array(hex[8..<16])
        }
    }

    /// The certificates in the table by kind; entries with unknown GUIDs are skipped.
    public static func parse(_ table: [UInt8]) throws(AttestationError) -> [Entry: [UInt8]] {
        var found: [Entry: [UInt8]] = [:]
        var at = 0
        while true {
            guard at + 24 <= table.count else {
                throw .malformed(what: "SEV-SNP certificate table", reason: "no terminating entry")
            }
            let guid = Array(table[at..<(at + 16)])
            if guid.allSatisfy({ $0 == 0 }) { break }
            let offset = Int(u32(table, at + 16))
            let length = Int(u32(table, at + 20))
            guard offset <= table.count, length <= table.count - offset else {
                throw .malformed(what: "SEV-SNP certificate table", reason: "entry \(at / 24) points outside the table")
            }
            if let entry = Entry.allCases.first(where: { $0.tableBytes == guid }) {
                found[entry] = Array(table[offset..<(offset + length)])
            }
            at += 24
        }
        return found
    }

    /// The endorsement chain in the order `Evidence.certificates` wants: VCEK or VLEK, ASK, ARK.
    public static func evidenceCertificates(from table: [UInt8]) throws(AttestationError) -> [[UInt8]] {
        let entries = try parse(table)
        guard let vek = entries[.vlek] ?? entries[.vcek] else { return [] }
        return [vek] + [entries[.ask], entries[.ark]].compactMap { $0 }
    }

    /// Builds a table (what a host does); used to hand certificates around in the same format.
    public static func build(_ entries: [(Entry, [UInt8])]) -> [UInt8] {
        let headerSize = 24 * (entries.count + 1)
        var header: [UInt8] = []
        var body: [UInt8] = []
        for (entry, der) in entries {
            header += entry.tableBytes + le32(headerSize + body.count) + le32(der.count)
            body += der
        }
        return header + [UInt8](repeating: 0, count: 24) + body
    }

    private static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }

    private static func le32(_ value: Int) -> [UInt8] {
        (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }
}
