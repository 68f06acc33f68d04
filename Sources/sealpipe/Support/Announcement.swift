import Foundation

/// One JSON line on standard output telling the launcher (or a test) that a service is up —
/// attested, keyed, bound — and where. Tests wait for this line, never for a sleep.
enum Announcement {
    static func ready(service: String, fields: [String: String] = [:]) {
        var object = fields
        object["event"] = "ready"
        object["service"] = service
        emit(object)
    }

    static func emit(_ object: [String: String]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }
}
