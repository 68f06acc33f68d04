public import Foundation

/// BERT's WordPiece tokenizer, matching the Hugging Face fast tokenizer of a BERT model:
/// literal special tokens are cut out of the raw text first, the rest is cleaned (control
/// characters dropped, whitespace unified), CJK ideographs isolated, accents stripped (NFD,
/// minus non-spacing marks), lower-cased, split on whitespace and punctuation, and each word
/// split greedily into the longest vocabulary pieces.
public struct WordPieceTokenizer: Sendable {
    /// Normalisation and length settings, as in `tokenizer_config.json` and `sentence_bert_config.json`.
    public struct Options: Sendable, Equatable {
        public var lowercase: Bool
        /// `nil` follows `lowercase`, as BERT's normaliser does.
        public var stripAccents: Bool?
        public var splitChineseCharacters: Bool
        /// Longest output, `[CLS]` and `[SEP]` included.
        public var maxLength: Int
        /// Longer words become a single `[UNK]`.
        public var maxCharactersPerWord: Int

        public init(
            lowercase: Bool = true, stripAccents: Bool? = nil, splitChineseCharacters: Bool = true,
            maxLength: Int = 256, maxCharactersPerWord: Int = 100
        ) {
            self.lowercase = lowercase
            self.stripAccents = stripAccents
            self.splitChineseCharacters = splitChineseCharacters
            self.maxLength = maxLength
            self.maxCharactersPerWord = maxCharactersPerWord
        }
    }

    public let options: Options
    public let classifierID: Int32
    public let separatorID: Int32
    public let unknownID: Int32
    public let paddingID: Int32
    /// Number of entries in the vocabulary.
    public var vocabularySize: Int { vocabulary.count }

    let vocabulary: [String: Int32]
    let specialTokens: [(scalars: [Unicode.Scalar], id: Int32)]
    let longestPiece: Int

    /// Builds a tokenizer from the vocabulary's lines (line number = id) and the literal tokens kept whole.
    public init(vocabulary lines: [String], specialTokens: [String], options: Options = Options()) throws(ModelError) {
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(lines.count)
        var longest = 1
        for (index, line) in lines.enumerated() where vocabulary[line] == nil {
            vocabulary[line] = Int32(index)
            longest = max(longest, line.unicodeScalars.count)
        }
        func id(_ token: String) throws(ModelError) -> Int32 {
            guard let id = vocabulary[token] else { throw .badFile(path: "vocab.txt", reason: "lacks \(token)") }
            return id
        }
        classifierID = try id("[CLS]")
        separatorID = try id("[SEP]")
        unknownID = try id("[UNK]")
        paddingID = try id("[PAD]")
        var specials: [(scalars: [Unicode.Scalar], id: Int32)] = []
        for token in specialTokens where !token.isEmpty {
            specials.append((Array(token.unicodeScalars), try id(token)))
        }
        // Longest first, so that matching at one position picks the longest token.
        self.specialTokens = specials.sorted { $0.scalars.count > $1.scalars.count }
        guard options.maxLength >= 2 else {
            throw .unsupported("maximum length \(options.maxLength) leaves no room for [CLS] and [SEP]")
        }
        self.vocabulary = vocabulary
        self.longestPiece = longest
        self.options = options
    }

    /// Reads `vocab.txt`, `tokenizer_config.json`, the added tokens of `tokenizer.json` and the
    /// length limit of `sentence_bert_config.json` from a model folder.
    public init(directory: URL) throws(ModelError) {
        let vocabularyText: String
        do {
            vocabularyText = try String(contentsOf: directory.appendingPathComponent("vocab.txt"), encoding: .utf8)
        } catch {
            throw .badFile(path: "vocab.txt", reason: "cannot be read as UTF-8")
        }
        var lines = vocabularyText.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
        if lines.last == "" { lines.removeLast() }

        let config = try BertConfiguration.jsonObject(directory.appendingPathComponent("tokenizer_config.json"))
        var options = Options()
        options.lowercase = (config["do_lower_case"] as? Bool) ?? true
        options.stripAccents = config["strip_accents"] as? Bool
        options.splitChineseCharacters = (config["tokenize_chinese_chars"] as? Bool) ?? true
        let sentenceConfig = try BertConfiguration.jsonObject(
            directory.appendingPathComponent("sentence_bert_config.json"))
        if let maxLength = sentenceConfig["max_seq_length"] as? Int { options.maxLength = maxLength }

        var specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        let fastURL = directory.appendingPathComponent("tokenizer.json")
        if FileManager.default.fileExists(atPath: fastURL.path) {
            let fast = try BertConfiguration.jsonObject(fastURL)
            if let model = fast["model"] as? [String: Any],
                let limit = model["max_input_chars_per_word"] as? Int
            {
                options.maxCharactersPerWord = limit
            }
            if let added = fast["added_tokens"] as? [[String: Any]] {
                specials = []
                for token in added {
                    guard let content = token["content"] as? String else { continue }
                    for flag in ["normalized", "lstrip", "rstrip", "single_word"] where token[flag] as? Bool == true {
                        throw .unsupported("added token \(content) with \(flag) = true")
                    }
                    specials.append(content)
                }
            }
        }
        try self.init(vocabulary: lines, specialTokens: specials, options: options)
    }

    /// Token ids of `text`: `[CLS]`, the word pieces (cut to fit), `[SEP]`.
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = [classifierID]
        let budget = options.maxLength - 2
        forEachPiece(in: text, limit: budget) { ids.append($0) }
        ids.append(separatorID)
        return ids
    }

    /// The word-piece strings of `text`, without `[CLS]`/`[SEP]` and without truncation; for inspection.
    public func tokenize(_ text: String) -> [String] {
        var names: [Int32: String] = [:]
        for (token, id) in vocabulary { names[id] = token }
        var pieces: [String] = []
        forEachPiece(in: text, limit: Int.max) { pieces.append(names[$0] ?? "[UNK]") }
        return pieces
    }
}
