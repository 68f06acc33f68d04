/// Canonical XML 1.1 (W3C, `http://www.w3.org/2006/12/xml-c14n11`, without comments), the form
/// NVIDIA's RIM signatures are computed over, for the subset `RIMXML` reads. In that subset
/// (no comments, PIs, DTD, CDATA or `xml:` attributes) C14N 1.1 reduces to: no XML declaration,
/// empty elements written as start and end tag, namespace declarations first (sorted by prefix,
/// the default first) then attributes sorted by namespace URI and local name, a namespace
/// declaration written only where the output parent does not already have it in scope, and the
/// canonical escapes in text and attribute values.
extension RIMXML {
    /// The canonical form of `element` and its descendants as a document subset: its ancestors'
    /// namespace declarations (`inherited`) are in scope and, the ancestors not being output,
    /// rendered on `element` itself. Elements for which `omit` is true are left out with their
    /// subtrees (the enveloped-signature transform).
    static func canonical(
        _ element: Element, inherited: [String: String] = [:], omitting omit: (Element) -> Bool = { _ in false }
    ) -> [UInt8] {
        var output: [UInt8] = []
        write(element, inScopeAbove: inherited, renderedAbove: [:], omit: omit, into: &output)
        return output
    }

    private static func write(
        _ element: Element, inScopeAbove: [String: String], renderedAbove: [String: String],
        omit: (Element) -> Bool, into output: inout [UInt8]
    ) {
        var inScope = inScopeAbove
        for (prefix, uri) in element.declarations { inScope[prefix] = uri }

        var namespaces: [(String, String)] = []
        for (prefix, uri) in inScope.sorted(by: { $0.key < $1.key }) {
            if prefix.isEmpty && uri.isEmpty {
                // xmlns="" undoes a default namespace the output parent has; otherwise it says nothing.
                if let above = renderedAbove[""], !above.isEmpty { namespaces.append(("xmlns", "")) }
            } else if renderedAbove[prefix] != uri {
                namespaces.append((prefix.isEmpty ? "xmlns" : "xmlns:" + prefix, uri))
            }
        }
        let attributes = element.attributes.filter { $0.name != "xmlns" && !$0.name.hasPrefix("xmlns:") }
            .map { attribute -> (uri: String, local: String, attribute: Attribute) in
                guard let colon = attribute.name.firstIndex(of: ":") else { return ("", attribute.name, attribute) }
                let prefix = String(attribute.name[..<colon])
                return (inScope[prefix] ?? "", String(attribute.name[attribute.name.index(after: colon)...]), attribute)
            }
            .sorted { ($0.uri, $0.local) < ($1.uri, $1.local) }

        output += Array("<\(element.name)".utf8)
        for (name, value) in namespaces { output += Array(" \(name)=\"\(escapeAttribute(value))\"".utf8) }
        for entry in attributes {
            output += Array(" \(entry.attribute.name)=\"\(escapeAttribute(entry.attribute.value))\"".utf8)
        }
        output.append(UInt8(ascii: ">"))
        for child in element.children {
            switch child {
            case .text(let text):
                output += Array(escapeText(text).utf8)
            case .element(let inner) where !omit(inner):
                write(inner, inScopeAbove: inScope, renderedAbove: inScope, omit: omit, into: &output)
            case .element:
                continue
            }
        }
        output += Array("</\(element.name)>".utf8)
    }

    private static func escapeText(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\r": result += "&#xD;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func escapeAttribute(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case "\"": result += "&quot;"
            case "\t": result += "&#x9;"
            case "\n": result += "&#xA;"
            case "\r": result += "&#xD;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}
