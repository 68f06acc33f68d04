import Foundation
import Testing

/// Locates the independent test vectors in `../shared/vectors` beside the repository (or
/// `$SEALPIPE_VECTORS`); tests that need them are disabled, with this reason, when absent.
enum SharedVectors {
    static let root: URL? = {
        if let override = ProcessInfo.processInfo.environment["SEALPIPE_VECTORS"] {
            return URL(fileURLWithPath: override)
        }
        let repository = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidate = repository.deletingLastPathComponent().appendingPathComponent("shared/vectors")
        return FileManager.default.fileExists(atPath: candidate.path) ? candidate : nil
    }()

    static var available: Bool { root != nil }
    static let missingReason: Comment = "../shared/vectors not found (set SEALPIPE_VECTORS); vector tests skipped"

    static func data(_ relativePath: String) throws -> Data {
        guard let root else { throw CocoaError(.fileNoSuchFile) }
        return try Data(contentsOf: root.appendingPathComponent(relativePath))
    }

    static func text(_ relativePath: String) throws -> String {
        String(decoding: try data(relativePath), as: UTF8.self)
    }

    static func json(_ relativePath: String) throws -> Any {
        try JSONSerialization.jsonObject(with: try data(relativePath))
    }
}
