import Foundation

/// One piece of attestation evidence as a node sends it to the key broker.
///
/// `report` is the raw signed report of the given kind; `certificates` carries any certificate
/// material the node collected with it (for SEV-SNP: DER certificates, the VCEK or VLEK first,
/// then optionally the ASK/ASVK and ARK). The JSON form encodes bytes as standard base64.
public struct Evidence: Sendable, Hashable, Codable {
    public var kind: EvidenceKind
    public var report: [UInt8]
    public var certificates: [[UInt8]]

    public init(kind: EvidenceKind, report: [UInt8], certificates: [[UInt8]] = []) {
        self.kind = kind
        self.report = report
        self.certificates = certificates
    }

    private enum CodingKeys: String, CodingKey {
        case kind, report, certificates
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(EvidenceKind.self, forKey: .kind)
        report = try Self.decodeBase64(try container.decode(String.self, forKey: .report), key: .report, in: container)
        let encoded = try container.decodeIfPresent([String].self, forKey: .certificates) ?? []
        certificates = try encoded.map { try Self.decodeBase64($0, key: .certificates, in: container) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(Data(report).base64EncodedString(), forKey: .report)
        try container.encode(certificates.map { Data($0).base64EncodedString() }, forKey: .certificates)
    }

    private static func decodeBase64(
        _ text: String, key: CodingKeys, in container: KeyedDecodingContainer<CodingKeys>
    ) throws -> [UInt8] {
        guard let data = Data(base64Encoded: text) else {
            throw DecodingError.dataCorruptedError(
                forKey: key, in: container, debugDescription: "evidence.\(key.rawValue): not standard base64")
        }
        return [UInt8](data)
    }
}
