/// Why the key broker (or its store) could not do what was asked. Each case names the problem.
public enum KeyBrokerError: Error, Equatable, Sendable, CustomStringConvertible {
    case rootKeyPermissions(path: String, mode: UInt16)
    case rootKeyUnreadable(path: String, reason: String)
    case rootKeyExists(path: String)
    case storeCorrupt(String)
    case storeUnwritable(path: String, reason: String)
    case logEntryRefused(String)
    case couldNotDecryptSecret(String)
    case configuration(String)
    case unknownRole(String)
    case identityMismatch

    public var description: String {
        switch self {
        case .rootKeyPermissions(let path, let mode):
            "root key \(path) has permissions 0\(String(mode, radix: 8)); it must be 0600 (owner read/write only): run chmod 600 \(path)"
        case .rootKeyUnreadable(let path, let reason): "root key \(path): \(reason)"
        case .rootKeyExists(let path): "root key \(path) already exists; refusing to overwrite it"
        case .storeCorrupt(let what): "key broker state is corrupt: \(what)"
        case .storeUnwritable(let path, let reason): "key broker state \(path): \(reason)"
        case .logEntryRefused(let what): "log entry not written: \(what)"
        case .couldNotDecryptSecret(let what):
            "could not decrypt \(what) with the root key (wrong root key or altered state)"
        case .configuration(let what): "key broker configuration: \(what)"
        case .unknownRole(let role): "unknown role \(role)"
        case .identityMismatch: "the state's identity public key does not match its secret key"
        }
    }
}
