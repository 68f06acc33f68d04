import Foundation

/// The engine of `sealpipe embed`: JSON lines `{"text": "..."}` in, one JSON line per input out,
/// in order, batched through the model; a bad line yields an error line and the rest go on.
public struct JSONLinesEmbedder: Sendable {
    public let model: MiniLMModel
    public let batchSize: Int
    public let includeTokens: Bool

    public init(model: MiniLMModel, batchSize: Int, includeTokens: Bool) {
        self.model = model
        self.batchSize = max(1, batchSize)
        self.includeTokens = includeTokens
    }

    /// A line that could not be embedded; `message` never quotes the input.
    public struct LineError: Error, Sendable, Equatable {
        public let line: Int
        public let message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// Reads `lines` (1-based numbering, blank lines skipped), calls `output` with each result line
    /// and `failure` for each refused line; returns how many lines failed.
    @discardableResult
    public func run(
        lines: some Sequence<String>, output: (String) -> Void, failure: (LineError) -> Void
    ) -> Int {
        var pending: [(line: Int, result: Result<String, LineError>)] = []
        var failures = 0
        func flush() {
            let texts = pending.compactMap { try? $0.result.get() }
            let results: Result<[[Float]], ModelError>
            var tokens: [[Int32]] = []
            do throws(ModelError) {
                tokens = texts.map(model.tokenizer.encode)
                results = .success(try model.embed(tokens: tokens))
            } catch {
                results = .failure(error)
            }
            var next = 0
            for entry in pending {
                switch entry.result {
                case .failure(let error):
                    failures += 1
                    failure(error)
                    output(Self.errorLine(error))
                case .success:
                    switch results {
                    case .success(let vectors):
                        output(Self.resultLine(vectors[next], tokens: includeTokens ? tokens[next] : nil))
                    case .failure(let error):
                        let lineError = LineError(line: entry.line, message: "model failed: \(error)")
                        failures += 1
                        failure(lineError)
                        output(Self.errorLine(lineError))
                    }
                    next += 1
                }
            }
            pending.removeAll(keepingCapacity: true)
        }
        var validCount = 0
        for (index, line) in lines.enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            let parsed = Self.parse(line, number: index + 1)
            pending.append((index + 1, parsed))
            if case .success = parsed { validCount += 1 }
            if validCount >= batchSize {
                flush()
                validCount = 0
            }
        }
        flush()
        return failures
    }

    /// The text of one input line, or why it is refused (never quoting the input).
    public static func parse(_ line: String, number: Int) -> Result<String, LineError> {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) else {
            return .failure(LineError(line: number, message: "not valid JSON"))
        }
        guard let dictionary = object as? [String: Any] else {
            return .failure(LineError(line: number, message: "not a JSON object"))
        }
        guard let text = dictionary["text"] as? String else {
            return .failure(LineError(line: number, message: "no string field \"text\""))
        }
        return .success(text)
    }

    /// One output line: `{"embedding":[…]}`, with `"input_ids"` when tokens are given.
    public static func resultLine(_ embedding: [Float], tokens: [Int32]?) -> String {
        var line = "{\"embedding\":["
        line.reserveCapacity(12 * embedding.count + 32)
        for (index, value) in embedding.enumerated() {
            if index > 0 { line += "," }
            line += value.description
        }
        line += "]"
        if let tokens {
            line += ",\"input_ids\":["
            line += tokens.map(String.init).joined(separator: ",")
            line += "]"
        }
        return line + "}"
    }

    /// The output line for a refused input: `{"error":"…","line":N}`.
    public static func errorLine(_ error: LineError) -> String {
        let data = try? JSONSerialization.data(
            withJSONObject: ["error": error.message, "line": error.line], options: [.sortedKeys])
        return data.flatMap { String(data: $0, encoding: .utf8) } ?? "{\"error\":\"unknown\",\"line\":\(error.line)}"
    }
}
