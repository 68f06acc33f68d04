import Crypto
import Sodium

/// Binds a launched guest to the pipeline configuration it was launched for.
///
/// The operator launches a role's guest with the role's configuration digest D =
/// SHA-384(the role's stage configuration bytes: topology name, role, neighbours, model, stage
/// settings) as MRCONFIGID (TDX, all 48 bytes) or HOST_DATA (SEV-SNP, D[0:32]). The hardware
/// reports the value, so a guest launched for another topology or role reports another one.
/// When the broker knows D for a role, a report carrying a non-zero value must carry exactly D;
/// a zero value means the guest was launched without a binding, which the check reports.
public enum ConfigurationBinding {
    public static let byteCount = 48

    /// D = SHA-384(configuration bytes).
    public static func digest(configuration: [UInt8]) -> [UInt8] {
        Array(Crypto.SHA384.hash(data: configuration))
    }

    /// The `configuration-binding` check for a reported field (`HOST_DATA`, `MRCONFIGID`).
    static func check(field: String, reported: [UInt8], expected: [UInt8]?) -> VerificationResult.Check? {
        guard let expected, expected.count == byteCount else { return nil }
        let wanted = Array(expected.prefix(reported.count))
        if reported.allSatisfy({ $0 == 0 }) {
            return .init(
                "configuration-binding", passed: true,
                detail: "\(field) is zero: the guest was launched without a configuration binding")
        }
        return reported == wanted
            ? .init("configuration-binding", passed: true, detail: "\(field) binds this role's configuration")
            : .init(
                "configuration-binding", passed: false,
                detail: "\(field) \(Hex.encode(reported.prefix(8)))… is not this role's configuration digest "
                    + "\(Hex.encode(wanted.prefix(8)))…")
    }
}
