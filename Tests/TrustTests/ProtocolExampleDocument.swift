import Foundation
import Sodium

/// The fenced blocks of `docs/protocol.md`: ```` ```json example-input=NAME ```` (inputs) and
/// ```` ```hex example=NAME ```` (expected bytes; `#` starts a comment, white space is ignored).
struct ExampleDocument {
    var inputs: [String: [String: Any]] = [:]
    var hex: [String: [UInt8]] = [:]
    /// Each hex block's text as written, to alter it in tests.
    var hexText: [String: String] = [:]
    var problems: [String] = []

    init(text: String) throws {
        var open: (kind: String, name: String, lines: [String])?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if var block = open {
                if line == "```" {
                    finish(block.kind, block.name, block.lines)
                    open = nil
                } else {
                    block.lines.append(line)
                    open = block
                }
            } else if line.hasPrefix("```hex example=") {
                open = ("hex", String(line.dropFirst("```hex example=".count)), [])
            } else if line.hasPrefix("```json example-input=") {
                open = ("json", String(line.dropFirst("```json example-input=".count)), [])
            }
        }
        if let open { problems.append("example \(open.name): the fenced block is not closed") }
    }

    private mutating func finish(_ kind: String, _ name: String, _ lines: [String]) {
        if kind == "json" {
            let object = try? JSONSerialization.jsonObject(with: Data(lines.joined(separator: "\n").utf8))
            guard let object = object as? [String: Any] else {
                problems.append("input \(name): not a JSON object")
                return
            }
            if inputs[name] != nil { problems.append("input \(name): stated twice") }
            inputs[name] = object
            return
        }
        let digits = lines.map { line in
            String(line.prefix { $0 != "#" }.filter { !$0.isWhitespace })
        }.joined()
        guard let bytes = Hex.decode(digits) else {
            problems.append("example \(name): not hex")
            return
        }
        if hex[name] != nil { problems.append("example \(name): written twice") }
        hex[name] = bytes
        hexText[name] = lines.joined(separator: "\n")
    }
}

/// Why an example could not be rebuilt from its inputs.
struct ExampleInputError: Error, CustomStringConvertible {
    var description: String
}

/// One `example-input` block's values, read by name and type.
struct ExampleInput {
    let name: String
    let values: [String: Any]

    func value(_ key: String) throws -> Any {
        guard let value = values[key] else { throw ExampleInputError(description: "input \(name): no \(key)") }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let text = try value(key) as? String else {
            throw ExampleInputError(description: "input \(name): \(key) is not a string")
        }
        return text
    }

    func bytes(_ key: String) throws -> [UInt8] {
        guard let bytes = Hex.decode(try string(key)) else {
            throw ExampleInputError(description: "input \(name): \(key) is not hex")
        }
        return bytes
    }

    func u64(_ key: String) throws -> UInt64 {
        guard let number = try value(key) as? NSNumber, number.doubleValue >= 0,
            number.doubleValue == number.doubleValue.rounded()
        else {
            throw ExampleInputError(description: "input \(name): \(key) is not a whole number")
        }
        return number.uint64Value
    }

    func bool(_ key: String) throws -> Bool {
        guard let value = try value(key) as? Bool else {
            throw ExampleInputError(description: "input \(name): \(key) is not a boolean")
        }
        return value
    }

    func object(_ key: String) throws -> ExampleInput {
        guard let object = try value(key) as? [String: Any] else {
            throw ExampleInputError(description: "input \(name): \(key) is not an object")
        }
        return ExampleInput(name: "\(name).\(key)", values: object)
    }

    func json(_ key: String) throws -> Data {
        try JSONSerialization.data(withJSONObject: try value(key))
    }
}
