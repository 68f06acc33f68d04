import Synchronization
import Yams

/// Collects decoding problems while decoding goes on, so that one run reports every unknown
/// key and every wrongly typed value instead of stopping at the first.
///
/// Passed to the raw types through the decoder's `userInfo`; the resolver reads it afterwards.
final class DecodingIssues: Sendable {
    static let userInfoKey = CodingUserInfoKey(rawValue: "sealpipe.topology.decodingIssues")!

    private let issues = Mutex<[TopologyIssue]>([])

    func record(_ issue: TopologyIssue) {
        issues.withLock { $0.append(issue) }
    }

    var all: [TopologyIssue] {
        issues.withLock { $0 }
    }

    static func from(_ decoder: any Decoder) -> DecodingIssues {
        // The raw types are only ever decoded by `Topology(yaml:)`, which always installs one.
        guard let issues = decoder.userInfo[userInfoKey] as? DecodingIssues else {
            preconditionFailure("raw topology types decoded without a DecodingIssues collector")
        }
        return issues
    }

    /// `stages[2].layers` from a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return text
    }

    /// An operator's words for a decoding error, at its place.
    static func issue(for error: any Error, at codingPath: [any CodingKey]) -> TopologyIssue {
        guard let error = error as? DecodingError else {
            return TopologyIssue(path: path(codingPath), message: "\(error)")
        }
        switch error {
        case .typeMismatch(let type, let context):
            return TopologyIssue(path: path(context.codingPath), message: "expected \(describe(type))")
        case .valueNotFound(let type, let context):
            return TopologyIssue(path: path(context.codingPath), message: "expected \(describe(type)), found nothing")
        case .keyNotFound(let key, let context):
            return TopologyIssue(path: path(context.codingPath + [key]), message: "required")
        case .dataCorrupted(let context):
            return TopologyIssue(path: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            return TopologyIssue(path: path(codingPath), message: "\(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Node.Mapping.Type: "a mapping"
        case is Node.Sequence.Type: "a list"
        case is Node.Scalar.Type: "a single value"
        case is String.Type: "a string"
        case is Int.Type, is UInt64.Type: "an integer"
        case is Bool.Type: "true or false"
        default: String(describing: type)
        }
    }
}

/// A coding key for any key a mapping holds, so unknown ones can be listed.
struct AnyCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init?(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// Reads one mapping of a topology file: rejects keys it does not know (a typo must not pass
/// silently) and turns a wrongly typed value into a recorded issue and `nil`, so decoding goes
/// on and finds the rest.
/// A record of the topology file: every field optional, read leniently. It lists its fields once
/// (name in the file, property), and this one mechanism decodes every record: a field of the
/// wrong type is recorded and left nil (so every other problem is still found), and a key no
/// field names is recorded with the nearest known one.
protocol LenientRecord: Decodable {
    init()
    /// Each field: its key in the file and the property it fills.
    static var fields: [LenientField<Self>] { get }
}

extension LenientRecord {
    init(from decoder: any Decoder) throws {
        self.init()
        let fields = Self.fields
        let reader = try FieldReader(decoder, known: fields.map(\.name))
        for field in fields { field.read(&self, reader) }
    }
}

/// One field of a `LenientRecord`: its key, and how to fill its property from a `FieldReader`.
struct LenientField<Record> {
    let name: String
    let read: (inout Record, FieldReader) -> Void

    init<Value: Decodable>(_ name: String, _ property: WritableKeyPath<Record, Value?>) {
        self.name = name
        read = { record, reader in record[keyPath: property] = reader(name, as: Value.self) }
    }
}

/// Reads one mapping's fields by name, recording unknown keys and wrongly typed values.
struct FieldReader {
    private let container: KeyedDecodingContainer<AnyCodingKey>
    private let issues: DecodingIssues
    private let codingPath: [any CodingKey]

    /// Fails (and the parent records it) only when the value is not a mapping at all.
    init(_ decoder: any Decoder, known: [String]) throws {
        container = try decoder.container(keyedBy: AnyCodingKey.self)
        issues = DecodingIssues.from(decoder)
        codingPath = decoder.codingPath
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue })
        where !known.contains(key.stringValue) {
            var message = FieldReader.unknownKey
            if let suggestion = FieldReader.closest(to: key.stringValue, in: known) {
                message += " (did you mean \"\(suggestion)\"?)"
            } else {
                message += " (known keys: \(known.joined(separator: ", ")))"
            }
            issues.record(TopologyIssue(path: DecodingIssues.path(codingPath + [key]), message: message))
        }
    }

    static var unknownKey: String { "unknown key" }

    /// The value at `name`: `nil` when absent or null, or when it has the wrong type (recorded).
    func callAsFunction<T: Decodable>(_ name: String, as type: T.Type = T.self) -> T? {
        let anyKey = AnyCodingKey(stringValue: name)
        do {
            return try container.decodeIfPresent(T.self, forKey: anyKey)
        } catch {
            issues.record(DecodingIssues.issue(for: error, at: codingPath + [anyKey]))
            return nil
        }
    }

    /// The known key nearest to a typo (at most two edits away), if any.
    static func closest(to word: String, in candidates: [String]) -> String? {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// A list item decoded on its own: when it is broken, the problem is recorded and the other
/// items are still decoded.
struct Lenient<Wrapped: Decodable>: Decodable {
    let value: Wrapped?

    init(from decoder: any Decoder) throws {
        do {
            value = try Wrapped(from: decoder)
        } catch {
            DecodingIssues.from(decoder).record(DecodingIssues.issue(for: error, at: decoder.codingPath))
            value = nil
        }
    }
}
