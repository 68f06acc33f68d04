/// Makes text that may come from a peer safe to put in a log line or a log entry.
enum LogText {
    /// Printable ASCII kept (backslash and quote escaped), everything else as `\u{XX}`, and at
    /// most `limit` characters of the input, so no input can end a line, forge a field or
    /// fill a disk.
    static func escaped(_ text: String, limit: Int = 64) -> String {
        var out = ""
        var taken = 0
        for scalar in text.unicodeScalars {
            if taken == limit {
                out += "…"
                break
            }
            taken += 1
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "\\u{\(String(scalar.value, radix: 16))}"
            }
        }
        return out
    }

    /// At most `maximumBytes` of UTF-8, cut on a character boundary.
    static func clipped(_ text: String, maximumBytes: Int) -> String {
        guard text.utf8.count > maximumBytes else { return text }
        var out = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            guard bytes + size <= maximumBytes else { break }
            out.append(character)
            bytes += size
        }
        return out
    }
}
