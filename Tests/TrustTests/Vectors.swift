import Foundation

/// Locates `../shared/vectors` (or `SEALPIPE_VECTORS`) without copying anything into the project.
enum Vectors {
    static let root: URL = {
        if let path = ProcessInfo.processInfo.environment["SEALPIPE_VECTORS"] { return URL(fileURLWithPath: path) }
        let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return repoRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors")
    }()

    static var merkle: URL { root.appendingPathComponent("merkle") }

    static var merkleAvailable: Bool {
        FileManager.default.fileExists(atPath: merkle.appendingPathComponent("rfc6962_tree_vectors.json").path)
    }
}

func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var iterator = Array(text.utf8).makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        bytes.append(UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)!)
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
