/// A value in a Kubernetes or podman manifest: the JSON data model with mapping keys kept in the
/// order they were written, so rendered files read like hand-written ones and never change
/// between runs. `yaml` prints it as block YAML with every string double-quoted, so no value
/// can be mistaken for a number, a boolean or a YAML tag.
public indirect enum ManifestValue: Sendable, Hashable {
    case string(String)
    case integer(Int)
    case bool(Bool)
    case list([ManifestValue])
    case map([(key: String, value: ManifestValue)])

    public static func == (lhs: ManifestValue, rhs: ManifestValue) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.bool(let a), .bool(let b)): a == b
        case (.list(let a), .list(let b)): a == b
        case (.map(let a), .map(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(yaml)
    }

    /// The member `key` of a mapping, or `nil`.
    public subscript(key: String) -> ManifestValue? {
        guard case .map(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// Follows `path` of mapping keys and list indices written as numbers (`spec.template.spec`).
    public func at(_ path: String) -> ManifestValue? {
        var value: ManifestValue? = self
        for part in path.split(separator: ".") {
            if case .list(let items) = value, let index = Int(part) {
                value = items.indices.contains(index) ? items[index] : nil
            } else {
                value = value?[String(part)]
            }
        }
        return value
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var integerValue: Int? {
        if case .integer(let number) = self { return number }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    public var listValue: [ManifestValue]? {
        if case .list(let items) = self { return items }
        return nil
    }

    /// A list of strings (`args`, `command`), or `nil` if this is not one.
    public var stringListValue: [String]? {
        guard case .list(let items) = self else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    /// Every string anywhere inside this value, depth first.
    public var allStrings: [String] {
        switch self {
        case .string(let text): [text]
        case .integer, .bool: []
        case .list(let items): items.flatMap(\.allStrings)
        case .map(let members): members.flatMap { [$0.key] + $0.value.allStrings }
        }
    }

    /// Block YAML for this value as one document's body (no `---`), ending in a newline.
    public var yaml: String {
        var out = ""
        switch self {
        case .map(let members) where !members.isEmpty: Self.writeMap(members, indent: 0, into: &out)
        case .list(let items) where !items.isEmpty: Self.writeList(items, indent: 0, into: &out)
        default: out = scalarText + "\n"
        }
        return out
    }

    private var scalarText: String {
        switch self {
        case .string(let text): Self.quoted(text)
        case .integer(let number): String(number)
        case .bool(let flag): flag ? "true" : "false"
        case .list: "[]"
        case .map: "{}"
        }
    }

    private var isNonEmptyCollection: Bool {
        switch self {
        case .list(let items): !items.isEmpty
        case .map(let members): !members.isEmpty
        default: false
        }
    }

    private static func writeMap(_ members: [(key: String, value: ManifestValue)], indent: Int, into out: inout String)
    {
        let pad = String(repeating: " ", count: indent)
        for (key, value) in members {
            let keyText = isPlainKey(key) ? key : quoted(key)
            if value.isNonEmptyCollection {
                out += "\(pad)\(keyText):\n"
                if case .list(let items) = value {
                    writeList(items, indent: indent, into: &out)
                } else if case .map(let inner) = value {
                    writeMap(inner, indent: indent + 2, into: &out)
                }
            } else {
                out += "\(pad)\(keyText): \(value.scalarText)\n"
            }
        }
    }

    private static func writeList(_ items: [ManifestValue], indent: Int, into out: inout String) {
        let pad = String(repeating: " ", count: indent)
        for item in items {
            switch item {
            case .map(let members) where !members.isEmpty:
                // The first member shares the dash's line; the rest line up under it.
                var first = ""
                writeMap([members[0]], indent: indent + 2, into: &first)
                out += pad + "- " + first.dropFirst(indent + 2)
                writeMap(Array(members.dropFirst()), indent: indent + 2, into: &out)
            case .list(let inner) where !inner.isEmpty:
                out += "\(pad)-\n"
                writeList(inner, indent: indent + 2, into: &out)
            default:
                out += "\(pad)- \(item.scalarText)\n"
            }
        }
    }

    /// Keys made only of letters, digits and `-_./` need no quotes (`app.kubernetes.io/name`).
    private static func isPlainKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else { return false }
        return key.unicodeScalars.allSatisfy {
            $0.isASCII
                && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                    || "-_./".unicodeScalars.contains($0))
        }
            && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(key.lowercased())
    }

    /// A YAML double-quoted scalar (JSON escapes, which YAML accepts).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension ManifestValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .integer(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: ManifestValue...) { self = .list(elements) }
    /// Dictionary literals keep their written order (they are not hashed).
    public init(dictionaryLiteral elements: (String, ManifestValue)...) {
        self = .map(elements.map { (key: $0.0, value: $0.1) })
    }
}
