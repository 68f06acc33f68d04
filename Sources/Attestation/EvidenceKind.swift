/// The format of a piece of attestation evidence (`simulated`, `sev-snp`, `tdx`, …).
///
/// A string-backed struct rather than an enum, so that evidence of a kind this build does not
/// know still decodes and is then refused by name (the `evidence-kind` check) instead of failing
/// as unreadable JSON. Composite kinds join a CPU kind and a device kind with `+`.
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
    /// An Intel TDX DCAP quote (v4 or v5) signed by the TD Quoting Enclave's attestation key.
    public static let tdx = EvidenceKind(rawValue: "tdx")
    /// An NVIDIA GPU's SPDM GET_MEASUREMENTS response signed by its device key. Never enough on
    /// its own for a role: the CPU side is not attested.
    public static let nvidiaGPU = EvidenceKind(rawValue: "nvidia-gpu")
    /// An SEV-SNP report and a GPU report whose nonce is bound to the CPU report's data.
    public static let sevSNPWithNVIDIAGPU = EvidenceKind(rawValue: "sev-snp+nvidia-gpu")
    /// A TDX quote and a GPU report whose nonce is bound to the CPU report's data.
    public static let tdxWithNVIDIAGPU = EvidenceKind(rawValue: "tdx+nvidia-gpu")

    /// Kinds a role's policy may list.
    public static let roleKinds: [EvidenceKind] = [.simulated, .sevSNP, .tdx, .sevSNPWithNVIDIAGPU, .tdxWithNVIDIAGPU]

    /// The single kinds this one is made of (itself, unless composite).
    public var components: [EvidenceKind] {
        rawValue.split(separator: "+", omittingEmptySubsequences: false).map { EvidenceKind(rawValue: String($0)) }
    }

    public var description: String { rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
