public import Foundation

/// The independent public test vectors, vendored in `Tests/Fixtures/vectors` (each file's source
/// repository, commit and licence are in that folder's README), so a public clone runs every
/// vector test. Nothing reads outside the repository.
public enum TestVectors {
    /// `Tests/Fixtures/vectors`, found from this file's place in the repository.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/vectors")

    public static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    public static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: url(relativePath))
    }

    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try data(relativePath))
    }

    public static func text(_ relativePath: String) throws -> String {
        String(decoding: try data(relativePath), as: UTF8.self)
    }

    public static func json(_ relativePath: String) throws -> Any {
        try JSONSerialization.jsonObject(with: try data(relativePath))
    }

    /// An ISO 8601 instant, for verifying at the fixed times the vectors' README names.
    public static func date(_ text: String) -> Date {
        guard let date = try? Date(text, strategy: .iso8601) else {
            preconditionFailure("not an ISO 8601 time: \(text)")
        }
        return date
    }
}
