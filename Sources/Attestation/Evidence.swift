import Foundation

/// One piece of attestation evidence as a node sends it to the key broker.
///
/// `report` is the raw signed report of the given kind; `certificates` carries any certificate
/// material the node collected with it (for SEV-SNP: DER certificates, the VCEK or VLEK first,
/// then optionally the ASK/ASVK and ARK; for a GPU: its device chain, leaf first). Composite
/// evidence (`tdx+nvidia-gpu`, …) has an empty report and its parts, CPU first, in `components`.
/// The JSON form encodes bytes as standard base64.
public struct Evidence: Sendable, Hashable, Codable {
    public var kind: EvidenceKind
    public var report: [UInt8]
    public var certificates: [[UInt8]]
    /// The parts of composite evidence, CPU report first; empty otherwise.
    public var components: [Evidence]

    public init(kind: EvidenceKind, report: [UInt8], certificates: [[UInt8]] = [], components: [Evidence] = []) {
        self.kind = kind
        self.report = report
        self.certificates = certificates
        self.components = components
    }

    /// Composite evidence of `kind` made of a CPU report and a device report.
    public init(composite kind: EvidenceKind, cpu: Evidence, device: Evidence) {
        self.init(kind: kind, report: [], certificates: [], components: [cpu, device])
    }

    private enum CodingKeys: String, CodingKey {
        case kind, report, certificates, components
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(EvidenceKind.self, forKey: .kind)
        report = try Self.decodeBase64(try container.decode(String.self, forKey: .report), key: .report, in: container)
        let encoded = try container.decodeIfPresent([String].self, forKey: .certificates) ?? []
        certificates = try encoded.map { try Self.decodeBase64($0, key: .certificates, in: container) }
        components = try container.decodeIfPresent([Evidence].self, forKey: .components) ?? []
        // Composite evidence nests one level: parts are single reports.
        guard components.allSatisfy({ $0.components.isEmpty }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .components, in: container, debugDescription: "evidence.components: parts cannot nest")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(Data(report).base64EncodedString(), forKey: .report)
        try container.encode(certificates.map { Data($0).base64EncodedString() }, forKey: .certificates)
        if !components.isEmpty { try container.encode(components, forKey: .components) }
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
