/// An AMD SEV-SNP attestation report (ABI spec, `ATTESTATION_REPORT`, versions 2 and 3).
///
/// Parsing checks only the size and version; nothing here is trusted until `SEVSNPVerifier` has
/// checked the signature and the chain.
public struct SEVSNPReport: Sendable, Hashable {
    public static let byteCount = 0x4A0
    /// The signature covers bytes 0x000–0x29F.
    public static let signedByteCount = 0x2A0
    public static let supportedVersions: ClosedRange<UInt32> = 2...3

    /// Which key signed the report (`KEY_INFO`/flags bits 2–4).
    public enum SigningKey: Sendable, Hashable, Codable {
        case vcek
        case vlek
        case none
        case reserved(UInt32)
    }

    /// The processor identity a v3 report carries.
    public struct CPUID: Sendable, Hashable, Codable {
        public var family: UInt8
        public var model: UInt8
        public var stepping: UInt8
    }

    /// An SEV firmware version (major.minor, build).
    public struct FirmwareVersion: Sendable, Hashable, Codable, CustomStringConvertible {
        public var major: UInt8
        public var minor: UInt8
        public var build: UInt8
        public var description: String { "\(major).\(minor) build \(build)" }
    }

    public let bytes: [UInt8]
    public let version: UInt32
    public let guestSVN: UInt32
    public let policy: SEVSNPGuestPolicy
    public let familyID: [UInt8]
    public let imageID: [UInt8]
    public let vmpl: UInt32
    public let signatureAlgorithm: UInt32
    public let currentTCB: SEVSNPTCBVersion
    public let platformInfo: UInt64
    /// Flags at 0x48: bit 0 author key enabled, bit 1 chip id masked, bits 2–4 signing key.
    public let keyInfo: UInt32
    public let reportData: [UInt8]
    public let measurement: [UInt8]
    public let hostData: [UInt8]
    public let idKeyDigest: [UInt8]
    public let authorKeyDigest: [UInt8]
    public let reportID: [UInt8]
    public let reportIDMigrationAgent: [UInt8]
    public let reportedTCB: SEVSNPTCBVersion
    /// Present in version 3 reports only.
    public let cpuid: CPUID?
    public let chipID: [UInt8]
    public let committedTCB: SEVSNPTCBVersion
    public let currentVersion: FirmwareVersion
    public let committedVersion: FirmwareVersion
    public let launchTCB: SEVSNPTCBVersion
    /// ECDSA r and s, each a 72-byte little-endian field.
    public let signatureR: [UInt8]
    public let signatureS: [UInt8]

    /// Parses a raw report; refuses any other size or an unsupported version.
    public init(bytes: [UInt8]) throws(AttestationError) {
        guard bytes.count == Self.byteCount else {
            throw .malformed(
                what: "SEV-SNP report", reason: "is \(bytes.count) bytes, expected \(Self.byteCount) (0x4A0)")
        }
        let version = Self.u32(bytes, 0x00)
        guard Self.supportedVersions.contains(version) else {
            throw .malformed(what: "SEV-SNP report", reason: "version \(version) is not supported (2 or 3)")
        }
        self.bytes = bytes
        self.version = version
        guestSVN = Self.u32(bytes, 0x04)
        policy = SEVSNPGuestPolicy(rawValue: Self.u64(bytes, 0x08))
        familyID = Array(bytes[0x10..<0x20])
        imageID = Array(bytes[0x20..<0x30])
        vmpl = Self.u32(bytes, 0x30)
        signatureAlgorithm = Self.u32(bytes, 0x34)
        currentTCB = SEVSNPTCBVersion(rawValue: Self.u64(bytes, 0x38))
        platformInfo = Self.u64(bytes, 0x40)
        keyInfo = Self.u32(bytes, 0x48)
        reportData = Array(bytes[0x50..<0x90])
        measurement = Array(bytes[0x90..<0xC0])
        hostData = Array(bytes[0xC0..<0xE0])
        idKeyDigest = Array(bytes[0xE0..<0x110])
        authorKeyDigest = Array(bytes[0x110..<0x140])
        reportID = Array(bytes[0x140..<0x160])
        reportIDMigrationAgent = Array(bytes[0x160..<0x180])
        reportedTCB = SEVSNPTCBVersion(rawValue: Self.u64(bytes, 0x180))
        cpuid = version >= 3 ? CPUID(family: bytes[0x188], model: bytes[0x189], stepping: bytes[0x18A]) : nil
        chipID = Array(bytes[0x1A0..<0x1E0])
        committedTCB = SEVSNPTCBVersion(rawValue: Self.u64(bytes, 0x1E0))
        currentVersion = FirmwareVersion(major: bytes[0x1EA], minor: bytes[0x1E9], build: bytes[0x1E8])
        committedVersion = FirmwareVersion(major: bytes[0x1EE], minor: bytes[0x1ED], build: bytes[0x1EC])
        launchTCB = SEVSNPTCBVersion(rawValue: Self.u64(bytes, 0x1F0))
        signatureR = Array(bytes[0x2A0..<0x2E8])
        signatureS = Array(bytes[0x2E8..<0x330])
    }

    /// The bytes the signature covers.
    public var signedBytes: ArraySlice<UInt8> { bytes[0..<Self.signedByteCount] }

    public var authorKeyEnabled: Bool { keyInfo & 1 != 0 }
    public var chipIDMasked: Bool { keyInfo & 2 != 0 }

    public var signingKey: SigningKey {
        switch (keyInfo >> 2) & 0x7 {
        case 0: .vcek
        case 1: .vlek
        case 7: .none
        case let other: .reserved(other)
        }
    }

    /// The generation named by a v3 report's CPUID, if it is one this code knows.
    public var productFromCPUID: SEVSNPProduct? {
        guard let cpuid else { return nil }
        switch (cpuid.family, cpuid.model) {
        case (0x19, 0x00...0x0F): return .milan
        case (0x19, 0x10...0x1F), (0x19, 0xA0...0xAF): return .genoa
        case (0x1A, 0x00...0x11): return .turin
        default: return nil
        }
    }

    private static func u32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }

    private static func u64(_ b: [UInt8], _ at: Int) -> UInt64 {
        (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) }
    }
}
