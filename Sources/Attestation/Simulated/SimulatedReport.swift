public import Sodium

/// The simulated TEE's signed report. Its first bytes spell out that it is a simulation.
///
/// Layout (240 bytes, integers little-endian):
/// ```
/// 0x00  16  magic "SIMULATED TEE v1"
/// 0x10   1  flags (bit 0: debug)
/// 0x11   7  reserved, zero
/// 0x18   8  timestamp, seconds since 1970 (signed)
/// 0x20  48  measurement (SHA-384, see SimulatedTEE.measurement)
/// 0x50  64  report data
/// 0x90  32  platform Ed25519 public key
/// 0xB0  64  Ed25519 signature over bytes 0x00–0xAF
/// ```
public struct SimulatedReport: Sendable, Hashable {
    public static let magic: [UInt8] = Array("SIMULATED TEE v1".utf8)
    public static let signedByteCount = 0xB0
    public static let byteCount = 0xF0

    public var debug: Bool
    public var timestamp: Int64
    public var measurement: [UInt8]
    public var reportData: [UInt8]
    public var platformKey: SigningPublicKey
    public var signature: [UInt8]

    /// Builds and signs a report with the platform key.
    public init(
        measurement: [UInt8], reportData: [UInt8], debug: Bool, timestamp: Int64, signedBy platform: SigningKeyPair
    ) throws(AttestationError) {
        guard measurement.count == SimulatedTEE.measurementByteCount else {
            throw .malformed(what: "simulated measurement", reason: "is \(measurement.count) bytes, expected 48")
        }
        guard reportData.count == ReportData.byteCount else {
            throw .invalidReportData(expected: ReportData.byteCount, actual: reportData.count)
        }
        self.measurement = measurement
        self.reportData = reportData
        self.debug = debug
        self.timestamp = timestamp
        self.platformKey = platform.publicKey
        self.signature = []
        self.signature = platform.signature(for: signedBytes)
    }

    /// Parses a serialized report; checks layout only, not the signature.
    public init(bytes: [UInt8]) throws(AttestationError) {
        guard bytes.count == Self.byteCount else {
            throw .malformed(what: "simulated report", reason: "is \(bytes.count) bytes, expected \(Self.byteCount)")
        }
        guard Array(bytes[0..<16]) == Self.magic else {
            throw .malformed(what: "simulated report", reason: "does not start with \"SIMULATED TEE v1\"")
        }
        guard bytes[0x10] & ~1 == 0, bytes[0x11..<0x18].allSatisfy({ $0 == 0 }) else {
            throw .malformed(what: "simulated report", reason: "unknown flags or non-zero reserved bytes")
        }
        debug = bytes[0x10] & 1 == 1
        timestamp = Int64(bitPattern: (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[0x18 + $1]) << (8 * UInt64($1)) })
        measurement = Array(bytes[0x20..<0x50])
        reportData = Array(bytes[0x50..<0x90])
        do {
            platformKey = try SigningPublicKey(bytes: Array(bytes[0x90..<0xB0]))
        } catch {
            throw .malformed(what: "simulated report", reason: "platform key: \(error)")
        }
        signature = Array(bytes[0xB0..<0xF0])
    }

    /// The bytes the platform key signs.
    public var signedBytes: [UInt8] {
        var out = Self.magic
        out.append(debug ? 1 : 0)
        out += [UInt8](repeating: 0, count: 7)
        let raw = UInt64(bitPattern: timestamp)
        out += (0..<8).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) }
        out += measurement
        out += reportData
        out += platformKey.bytes
        return out
    }

    public var bytes: [UInt8] { signedBytes + signature }

    /// Whether the embedded platform key made the signature.
    public var hasValidSignature: Bool {
        signature.count == SigningPublicKey.signatureByteCount
            && platformKey.isValidSignature(signature, for: signedBytes)
    }
}
