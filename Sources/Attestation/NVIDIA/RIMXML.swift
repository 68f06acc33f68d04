/// The XML subset NVIDIA's RIMs (SWID tags, ISO/IEC 19770-2) are written in, read strictly
/// without libxml2 (the release binary is static and links no XML library): elements, attributes,
/// character data, the five predefined entities and character references, and an optional XML
/// declaration. Comments, DTDs, CDATA sections, processing instructions and `xml:` attributes
/// are refused rather than half-understood, so the canonical form computed from this tree
/// (`RIMXML.canonical`) is the one XML-DSig defines for every document this reader accepts.
struct RIMXML: Sendable {
    struct Attribute: Sendable {
        /// The qualified name as written (`ns2:Hash0`, `xmlns:ds`).
        let name: String
        let value: String
    }

    struct Element: Sendable {
        /// Document order, so one element can be told from an identical one.
        let id: Int
        /// The qualified name as written.
        let name: String
        let attributes: [Attribute]
        var children: [Node]

        var prefix: String { name.firstIndex(of: ":").map { String(name[..<$0]) } ?? "" }
        var localName: String { name.firstIndex(of: ":").map { String(name[name.index(after: $0)...]) } ?? name }

        func attribute(_ name: String) -> String? { attributes.first { $0.name == name }?.value }

        /// The namespace declarations this element makes, by prefix ("" for the default).
        var declarations: [String: String] {
            var result: [String: String] = [:]
            for attribute in attributes {
                if attribute.name == "xmlns" {
                    result[""] = attribute.value
                } else if attribute.name.hasPrefix("xmlns:") {
                    result[String(attribute.name.dropFirst(6))] = attribute.value
                }
            }
            return result
        }

        var elements: [Element] {
            children.compactMap {
                if case .element(let element) = $0 { return element }
                return nil
            }
        }
    }

    indirect enum Node: Sendable {
        case element(Element)
        case text(String)
    }

    static let maximumSize = 4 << 20
    static let maximumDepth = 32

    let root: Element

    init(bytes input: [UInt8]) throws(AttestationError) {
        var parser = Parser(input: input)
        root = try parser.document()
        try Self.checkNamespaces(root, inScope: [:])
    }

    /// Namespace well-formedness, which the canonical form relies on: every prefix used is
    /// declared, no prefix is undeclared (`xmlns:p=""`), and no element has two attributes with the
    /// same namespace and local name.
    private static func checkNamespaces(_ element: Element, inScope above: [String: String]) throws(AttestationError) {
        func bad(_ reason: String) -> AttestationError {
            .malformed(what: "RIM", reason: "<\(element.name)>: \(reason)")
        }
        var inScope = above
        for (prefix, uri) in element.declarations {
            if prefix.isEmpty {
                inScope[""] = uri
                continue
            }
            guard prefix != "xml", prefix != "xmlns" else { throw bad("declares the reserved prefix \(prefix)") }
            guard !uri.isEmpty else { throw bad("undeclares prefix \(prefix)") }
            inScope[prefix] = uri
        }
        guard element.prefix.isEmpty || inScope[element.prefix] != nil else {
            throw bad("prefix \(element.prefix) is not declared")
        }
        var expandedNames: Set<String> = []
        for attribute in element.attributes where attribute.name != "xmlns" && !attribute.name.hasPrefix("xmlns:") {
            var uri = ""
            var local = attribute.name
            if let colon = attribute.name.firstIndex(of: ":") {
                let prefix = String(attribute.name[..<colon])
                guard let declared = inScope[prefix], !prefix.isEmpty else {
                    throw bad("attribute prefix \(prefix) is not declared")
                }
                uri = declared
                local = String(attribute.name[attribute.name.index(after: colon)...])
            }
            guard expandedNames.insert(uri + " " + local).inserted else {
                throw bad("two attributes are both {\(uri)}\(local)")
            }
        }
        for child in element.elements { try checkNamespaces(child, inScope: inScope) }
    }

    private struct Parser {
        var bytes: [UInt8]
        var index = 0
        var nextID = 0

        init(input: [UInt8]) {
            // XML end-of-line handling: CR LF and lone CR become LF before anything else is read.
            var normalized: [UInt8] = []
            normalized.reserveCapacity(input.count)
            var i = input.starts(with: [0xef, 0xbb, 0xbf]) ? 3 : 0
            while i < input.count {
                if input[i] == 0x0d {
                    normalized.append(0x0a)
                    if i + 1 < input.count, input[i + 1] == 0x0a { i += 1 }
                } else {
                    normalized.append(input[i])
                }
                i += 1
            }
            bytes = normalized
        }

        func bad(_ reason: String) -> AttestationError {
            .malformed(what: "RIM", reason: "\(reason) (byte \(index))")
        }

        mutating func document() throws(AttestationError) -> Element {
            guard bytes.count <= RIMXML.maximumSize else {
                throw .malformed(what: "RIM", reason: "\(bytes.count) bytes is over the \(RIMXML.maximumSize) accepted")
            }
            guard String(validating: bytes, as: UTF8.self) != nil else { throw bad("not UTF-8 text") }
            // Only an XML declaration may precede the root ("<?xml-stylesheet" is a processing instruction).
            if starts("<?xml ") {
                guard let end = find("?>") else { throw bad("the XML declaration does not end") }
                index = end + 2
            }
            skipSpace()
            guard starts("<"), !starts("<!"), !starts("<?") else {
                throw bad("expected the root element (comments, DTDs and processing instructions are not accepted)")
            }
            let root = try element(depth: 0)
            skipSpace()
            guard index == bytes.count else { throw bad("content after the root element") }
            return root
        }

        mutating func element(depth: Int) throws(AttestationError) -> Element {
            guard depth < RIMXML.maximumDepth else { throw bad("elements nest deeper than \(RIMXML.maximumDepth)") }
            index += 1  // "<"
            let name = try self.name()
            let id = nextID
            nextID += 1
            var attributes: [Attribute] = []
            while true {
                let hadSpace = skipSpace()
                guard index < bytes.count else { throw bad("element <\(name)> does not end") }
                if starts("/>") {
                    index += 2
                    return Element(id: id, name: name, attributes: attributes, children: [])
                }
                if bytes[index] == UInt8(ascii: ">") {
                    index += 1
                    break
                }
                guard hadSpace else { throw bad("attributes of <\(name)> are not separated by space") }
                let attributeName = try self.name()
                guard !attributeName.hasPrefix("xml:") else {
                    throw bad("attribute \(attributeName) (xml: attributes are not accepted)")
                }
                guard !attributes.contains(where: { $0.name == attributeName }) else {
                    throw bad("attribute \(attributeName) appears twice on <\(name)>")
                }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                    throw bad("attribute \(attributeName) has no value")
                }
                index += 1
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'")
                else { throw bad("attribute \(attributeName) value is not quoted") }
                let quote = bytes[index]
                index += 1
                guard let end = bytes[index...].firstIndex(of: quote) else {
                    throw bad("attribute \(attributeName) value does not end")
                }
                let raw = Array(bytes[index..<end])
                guard !raw.contains(UInt8(ascii: "<")) else { throw bad("attribute \(attributeName) value holds <") }
                // Attribute-value normalisation: each white-space character becomes a space.
                let normalized = raw.map { $0 == 0x09 || $0 == 0x0a ? 0x20 : $0 }
                attributes.append(Attribute(name: attributeName, value: try decode(normalized)))
                index = end + 1
            }
            var children: [Node] = []
            while true {
                guard let open = bytes[index...].firstIndex(of: UInt8(ascii: "<")) else {
                    throw bad("element <\(name)> is not closed")
                }
                if open > index {
                    children.append(.text(try decode(Array(bytes[index..<open]))))
                    index = open
                }
                if starts("</") {
                    index += 2
                    let closing = try self.name()
                    guard closing == name else { throw bad("</\(closing)> closes <\(name)>") }
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ">") else {
                        throw bad("</\(name) does not end with >")
                    }
                    index += 1
                    return Element(id: id, name: name, attributes: attributes, children: children)
                }
                guard !starts("<!"), !starts("<?") else {
                    throw bad("comments, CDATA sections and processing instructions are not accepted")
                }
                children.append(.element(try element(depth: depth + 1)))
            }
        }

        mutating func name() throws(AttestationError) -> String {
            let start = index
            while index < bytes.count, Self.isNameByte(bytes[index]) { index += 1 }
            guard index > start, !(bytes[start] >= 0x30 && bytes[start] <= 0x39), bytes[start] != UInt8(ascii: "-"),
                bytes[start] != UInt8(ascii: ".")
            else { throw bad("expected a name") }
            let name = String(decoding: bytes[start..<index], as: UTF8.self)
            guard name.split(separator: ":", omittingEmptySubsequences: false).count <= 2, name.first != ":",
                name.last != ":"
            else { throw bad("\(name) is not a qualified name") }
            return name
        }

        /// Text with the predefined entities and character references replaced.
        func decode(_ raw: [UInt8]) throws(AttestationError) -> String {
            guard raw.contains(UInt8(ascii: "&")) else { return String(decoding: raw, as: UTF8.self) }
            var result: [UInt8] = []
            var i = 0
            while i < raw.count {
                guard raw[i] == UInt8(ascii: "&") else {
                    result.append(raw[i])
                    i += 1
                    continue
                }
                guard let semicolon = raw[i...].firstIndex(of: UInt8(ascii: ";")), semicolon - i <= 10 else {
                    throw bad("an & that starts no entity reference")
                }
                let reference = String(decoding: raw[(i + 1)..<semicolon], as: UTF8.self)
                switch reference {
                case "amp": result.append(UInt8(ascii: "&"))
                case "lt": result.append(UInt8(ascii: "<"))
                case "gt": result.append(UInt8(ascii: ">"))
                case "quot": result.append(UInt8(ascii: "\""))
                case "apos": result.append(UInt8(ascii: "'"))
                default:
                    let number: UInt32?
                    if reference.hasPrefix("#x") {
                        number = UInt32(reference.dropFirst(2), radix: 16)
                    } else if reference.hasPrefix("#") {
                        number = UInt32(reference.dropFirst(), radix: 10)
                    } else {
                        number = nil
                    }
                    guard let number, number != 0, let scalar = Unicode.Scalar(number) else {
                        throw bad("entity reference &\(reference); is not predefined or a character reference")
                    }
                    result += Array(String(Character(scalar)).utf8)
                }
                i = semicolon + 1
            }
            return String(decoding: result, as: UTF8.self)
        }

        @discardableResult
        mutating func skipSpace() -> Bool {
            let start = index
            while index < bytes.count, [0x20, 0x09, 0x0a].contains(bytes[index]) { index += 1 }
            return index > start
        }

        func starts(_ text: String) -> Bool { bytes[index...].starts(with: text.utf8) }

        func find(_ text: String) -> Int? {
            let needle = Array(text.utf8)
            guard bytes.count >= needle.count, index <= bytes.count - needle.count else { return nil }
            return (index...(bytes.count - needle.count)).first {
                bytes[$0..<($0 + needle.count)].elementsEqual(needle)
            }
        }

        static func isNameByte(_ byte: UInt8) -> Bool {
            (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: ":")
        }
    }
}
