import Foundation

/// Intel TCB Info (version 3, id "TDX") as PCS signs it: the TCB levels of one FMSPC, each with
/// its status and advisories, and the TDX module identities.
struct IntelTCBInfo: Decodable, Sendable {
    struct Component: Decodable, Sendable { var svn: Int }
    struct TCB: Decodable, Sendable {
        var sgxtcbcomponents: [Component]?
        var pcesvn: Int?
        var tdxtcbcomponents: [Component]?
        var isvsvn: Int?
    }
    struct Level: Decodable, Sendable {
        var tcb: TCB
        var tcbDate: String?
        var tcbStatus: String
        var advisoryIDs: [String]?
    }
    struct Module: Decodable, Sendable {
        var mrsigner: String
        var attributes: String
        var attributesMask: String
    }
    struct ModuleIdentity: Decodable, Sendable {
        var id: String
        var mrsigner: String
        var attributes: String
        var attributesMask: String
        var tcbLevels: [Level]
    }

    var id: String
    var version: Int
    var issueDate: String
    var nextUpdate: String
    var fmspc: String
    var pceId: String
    var tdxModule: Module?
    var tdxModuleIdentities: [ModuleIdentity]?
    var tcbLevels: [Level]
}

/// Intel QE Identity (version 2, id "TD_QE"): what the TD Quoting Enclave must be, and the
/// status of each of its ISV SVNs.
struct IntelQEIdentity: Decodable, Sendable {
    var id: String
    var version: Int
    var issueDate: String
    var nextUpdate: String
    var miscselect: String
    var miscselectMask: String
    var attributes: String
    var attributesMask: String
    var mrsigner: String
    var isvprodid: Int
    var tcbLevels: [IntelTCBInfo.Level]
}

/// ISO 8601 dates as PCS writes them ("2025-06-19T10:16:03Z").
enum IntelDate {
    static func parse(_ text: String) -> Date? { try? Date(text, strategy: .iso8601) }
}
