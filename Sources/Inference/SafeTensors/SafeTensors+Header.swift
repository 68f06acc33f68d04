import Foundation

extension SafeTensors {
    struct ParsedHeader {
        var tensors: [String: TensorInfo]
        var metadata: [String: String]
        var dataStart: Int
    }

    /// Parses and validates the header against the buffer that holds the whole container.
    static func parseHeader(_ buffer: UnsafeRawBufferPointer) throws(SafeTensorsError) -> ParsedHeader {
        guard buffer.count >= 8 else { throw .truncated(expected: 8, actual: buffer.count) }
        var length: UInt64 = 0
        for index in 0..<8 { length |= UInt64(buffer[index]) << (8 * UInt64(index)) }
        guard length <= UInt64(maximumHeaderLength) else {
            throw .headerTooLarge(length: length, limit: maximumHeaderLength)
        }
        let headerLength = Int(length)
        guard buffer.count - 8 >= headerLength else {
            throw .truncated(expected: 8 + headerLength, actual: buffer.count)
        }
        let dataStart = 8 + headerLength
        let dataSize = buffer.count - dataStart
        let json = Data(buffer[8..<dataStart])
        let header: RawHeader
        do {
            header = try JSONDecoder().decode(RawHeader.self, from: json)
        } catch let error as DecodingError {
            throw .malformedHeader(reason: describe(error))
        } catch {
            throw .malformedHeader(reason: "header is not valid JSON")
        }
        var tensors: [String: TensorInfo] = [:]
        for (name, entry) in header.entries {
            tensors[name] = try validate(name: name, entry: entry, dataSize: dataSize)
        }
        let metadata = header.metadata

        let ordered = tensors.values.sorted {
            ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound)
        }
        for (previous, next) in zip(ordered, ordered.dropFirst())
        where next.dataRange.lowerBound < previous.dataRange.upperBound {
            throw .overlap(first: previous.name, second: next.name)
        }
        return ParsedHeader(tensors: tensors, metadata: metadata, dataStart: dataStart)
    }

    private static func validate(name: String, entry: RawEntry, dataSize: Int) throws(SafeTensorsError) -> TensorInfo {
        guard let dtype = DType(rawValue: entry.dtype) else { throw .unknownDType(tensor: name, dtype: entry.dtype) }
        var elements = 1
        for (index, dimension) in entry.shape.enumerated() {
            guard dimension >= 0 else { throw .malformedHeader(reason: "\(name).shape[\(index)] is negative") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw .malformedHeader(reason: "\(name).shape overflows") }
            elements = product
        }
        guard entry.dataOffsets.count == 2 else {
            throw .malformedHeader(reason: "\(name).data_offsets has \(entry.dataOffsets.count) values, not 2")
        }
        let begin = entry.dataOffsets[0]
        let end = entry.dataOffsets[1]
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw .offsetsOutOfBounds(tensor: name, begin: begin, end: end, dataSize: dataSize)
        }
        let (expected, overflow) = elements.multipliedReportingOverflow(by: dtype.byteCount)
        guard !overflow, expected == end - begin else {
            throw .sizeMismatch(tensor: name, expected: overflow ? Int.max : expected, actual: end - begin)
        }
        return TensorInfo(name: name, dtype: dtype, shape: entry.shape, dataRange: begin..<end)
    }

    private static func describe(_ error: DecodingError) -> String {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty { return "header is not valid JSON" }
        let (context, what): (DecodingError.Context, String) =
            switch error {
            case .typeMismatch(_, let context): (context, "has the wrong type")
            case .valueNotFound(_, let context): (context, "is null")
            case .keyNotFound(let key, let context): (context, "lacks \(key.stringValue)")
            case .dataCorrupted(let context): (context, "is invalid: \(context.debugDescription)")
            @unknown default: (DecodingError.Context(codingPath: [], debugDescription: ""), "is invalid")
            }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        return path.isEmpty ? "header \(what)" : "header\(path) \(what)"
    }

    struct RawEntry: Decodable {
        var dtype: String
        var shape: [Int]
        var dataOffsets: [Int]

        enum CodingKeys: String, CodingKey {
            case dtype, shape
            case dataOffsets = "data_offsets"
        }
    }

    struct RawHeader: Decodable {
        var entries: [String: RawEntry] = [:]
        var metadata: [String: String] = [:]

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries[key.stringValue] = try container.decode(RawEntry.self, forKey: key)
                }
            }
        }
    }
}
