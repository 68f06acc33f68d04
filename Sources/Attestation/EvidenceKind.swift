/// The format of a piece of attestation evidence (`simulated`, `sev-snp`, …).
///
/// A string-backed struct rather than an enum, so that evidence of a kind this build does not
/// know still decodes and is then refused by name (the `evidence-kind` check) instead of failing
/// as unreadable JSON.
public struct EvidenceKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// The simulated TEE: a software platform key signs a measurement of the executable. Not a
    /// hardware guarantee; see `docs/attestation.md`.
    public static let simulated = EvidenceKind(rawValue: "simulated")
    /// An AMD SEV-SNP attestation report signed by a VCEK or VLEK.
    public static let sevSNP = EvidenceKind(rawValue: "sev-snp")

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
