import Foundation

/// Decodes JSON from bytes (keeps `Data` out of the files that only handle `[UInt8]`).
enum JSONDecoderShim {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
