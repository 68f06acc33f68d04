import Crypto
import Sodium

/// An Azure confidential VM's HCL report: a header, the SEV-SNP report at 0x20, then runtime
/// data whose JSON ("variable data") the paravisor binds into the SNP report data.
///
/// The guest cannot choose SNP report data on Azure; it chooses `user-data` inside the runtime
/// JSON, and report_data[0:32] = SHA-256(runtime JSON) carries that choice into the signed report.
struct AzureHCLReport: Sendable {
    static let magic: [UInt8] = Array("HCLA".utf8)
    static let reportOffset = 0x20
    static let runtimeLengthOffset = 0x4D0
    static let runtimeDataOffset = 0x4D4

    let snpReport: [UInt8]
    let runtimeData: [UInt8]
    /// The 64 bytes of `user-data` in the runtime JSON, if present and well-formed.
    let userData: [UInt8]?

    static func looksLikeHCL(_ bytes: [UInt8]) -> Bool {
        bytes.count > runtimeDataOffset && Array(bytes.prefix(4)) == magic
    }

    init(bytes: [UInt8]) throws(AttestationError) {
        guard Self.looksLikeHCL(bytes) else {
            throw .malformed(what: "Azure HCL report", reason: "too short or no HCLA magic")
        }
        snpReport = Array(bytes[Self.reportOffset..<(Self.reportOffset + SEVSNPReport.byteCount)])
        let o = Self.runtimeLengthOffset
        let length = Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24
        guard length <= bytes.count - Self.runtimeDataOffset else {
            throw .malformed(what: "Azure HCL report", reason: "runtime data length \(length) exceeds the report")
        }
        runtimeData = Array(bytes[Self.runtimeDataOffset..<(Self.runtimeDataOffset + length)])
        userData = Self.userData(in: runtimeData)
    }

    func bindingProblem(report: SEVSNPReport) -> String? {
        let digest = Array(Crypto.SHA256.hash(data: runtimeData))
        guard Array(report.reportData.prefix(32)) == digest else {
            return "HCL runtime data digest does not match SNP report_data[0:32]"
        }
        guard userData != nil else { return "HCL runtime data has no 64-byte hex user-data" }
        return nil
    }

    private static func userData(in json: [UInt8]) -> [UInt8]? {
        struct Runtime: Decodable {
            let userData: String?
            enum CodingKeys: String, CodingKey { case userData = "user-data" }
        }
        guard let runtime = try? JSONDecoderShim.decode(Runtime.self, from: json), let hex = runtime.userData,
            let bytes = Hex.decode(spaced: hex), bytes.count == ReportData.byteCount
        else { return nil }
        return bytes
    }
}
