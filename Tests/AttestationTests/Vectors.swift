import Foundation

/// The shared, independent test vectors, read in place.
enum Vectors {
    static let root: URL = {
        if let path = ProcessInfo.processInfo.environment["SEALPIPE_VECTORS"] {
            return URL(fileURLWithPath: path)
        }
        // Tests/AttestationTests/Vectors.swift → repository root → ../shared/vectors
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repository.deletingLastPathComponent().appendingPathComponent("shared/vectors")
    }()

    static var available: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("sev-snp/expected.json").path)
    }

    static func bytes(_ relative: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: root.appendingPathComponent(relative)))
    }

    /// An ISO 8601 instant, for verifying at a fixed time.
    static func date(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }
}
