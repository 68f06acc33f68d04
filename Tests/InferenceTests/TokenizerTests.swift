import Foundation
import Testing

@testable import Inference

@Suite("WordPieceTokenizer", .timeLimit(.minutes(1)))
struct TokenizerTests {
    static let small = try! WordPieceTokenizer(
        vocabulary: [
            "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "!", "hello", "cafe",
            "中", "##s",
        ],
        specialTokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        options: .init(maxLength: 6, maxCharactersPerWord: 9))

    @Test func splitsWordsGreedilyIntoLongestPieces() {
        #expect(Self.small.tokenize("unaffable") == ["un", "##aff", "##able"])
        #expect(Self.small.tokenize("Hello!unaffs") == ["hello", "!", "un", "##aff", "##s"])
        #expect(Self.small.tokenize("unaffablex") == ["[UNK]"])
        #expect(Self.small.tokenize("affableaff") == ["[UNK]"])  // 10 characters: over the 9 allowed
        #expect(Self.small.tokenize("Café中中") == ["cafe", "中", "中"])
    }

    @Test func keepsLiteralSpecialTokensAndTruncates() {
        #expect(Self.small.encode("hello[SEP]cafe") == [2, 10, 3, 11, 3])
        #expect(Self.small.encode("") == [2, 3])
        // Limit 6 leaves 4 pieces between [CLS] and [SEP].
        #expect(Self.small.encode("hello hello hello hello hello hello") == [2, 10, 10, 10, 10, 3])
    }

    @Test func refusesAVocabularyWithoutSpecialTokens() {
        #expect(throws: ModelError.badFile(path: "vocab.txt", reason: "lacks [CLS]")) {
            try WordPieceTokenizer(vocabulary: ["[PAD]", "[UNK]"], specialTokens: [])
        }
    }

    /// Expected pieces printed by the Hugging Face fast tokenizer (tokenizers 0.23.3) of this model.
    static let cases: [(String, [String])] = [
        ("hi 😀 there", ["hi", "[UNK]", "there"]),
        ("🫠 y", ["[UNK]", "y"]),
        ("a\u{200B}b", ["ab"]),
        ("x\u{AD}Y", ["x", "##y"]),
        ("İstanbul", ["istanbul"]),
        ("ΣΑΣ", ["σ", "##α", "##σ"]),
        ("[sep] [SEP]x[CLS]", ["[", "sep", "]", "[SEP]", "x", "[CLS]"]),
        ("\u{85}a\u{0B}b\u{0C}c", ["abc"]),
        ("a\u{A0}b\u{3000}c", ["a", "b", "c"]),
        ("ﬁ ½ ①", ["ﬁ", "½", "[UNK]"]),
        ("한국어", ["ᄒ", "##ᅡ", "##ᆫ", "##ᄀ", "##ᅮ", "##ᆨ", "##ᄋ", "##ᅥ"]),
        ("x\u{E000}y", ["x", "##y"]),
        ("tab\there", ["tab", "here"]),
        ("café Ǆ ß", ["cafe", "[UNK]", "ß"]),
        ("x\u{378}y", ["[UNK]"]),
        ("\u{301}a", ["a"]),
        ("a\u{903}b", ["[UNK]"]),
        ("a$b+c^d`e|f~g", ["a", "$", "b", "+", "c", "^", "d", "`", "e", "|", "f", "~", "g"]),
        ("«a» ¿b? ‘c’ — d…", ["«", "a", "»", "¿", "b", "?", "‘", "c", "’", "—", "d", "…"]),
        ("\u{FFFD}\u{0}z", ["z"]),
        ("[PAD][UNK][MASK]", ["[PAD]", "[UNK]", "[MASK]"]),
        ("[SEP", ["[", "sep"]),
        ("unaffable", ["una", "##ffa", "##ble"]),
        ("Hello, WORLD!!", ["hello", ",", "world", "!", "!"]),
    ]

    @Test(.modelPresent)
    func matchesTheReferenceTokenizerOnEdgeCases() throws {
        let tokenizer = try WordPieceTokenizer(directory: TestSupport.modelDirectory!)
        #expect(tokenizer.options.maxLength == 256)
        #expect(tokenizer.options.lowercase)
        for (text, expected) in Self.cases {
            #expect(tokenizer.tokenize(text) == expected, "\(text.debugDescription)")
        }
        #expect(tokenizer.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
        let long = tokenizer.encode(String(repeating: "hello ", count: 400))
        #expect(long.count == 256 && long.first == 101 && long.last == 102)
    }
}

/// The tokenizer's work is bounded by the window it keeps, not by the text it is given.
@Suite("WordPieceTokenizer work bound", .timeLimit(.minutes(1)))
struct TokenizerWorkBoundTests {
    static let tokenizer = try! WordPieceTokenizer(
        vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello", "world", "!"], specialTokens: ["[SEP]"],
        options: .init(maxLength: 256))

    @Test func aMebibyteOfTextIsReadOnlyUntilTheWindowIsFull() {
        let sentence = "Hello  world!\tHELLO\nworld "
        let huge = String(repeating: sentence, count: (1 << 20) / sentence.utf8.count)
        let short = String(repeating: sentence, count: 64)
        var hugeIDs: [Int32] = []
        let hugeRead = Self.tokenizer.forEachPiece(in: huge, limit: 254) { hugeIDs.append($0) }
        var shortIDs: [Int32] = []
        let shortRead = Self.tokenizer.forEachPiece(in: short, limit: 254) { shortIDs.append($0) }
        // Same pieces, and about the same work: at most one stretch beyond what the window needs.
        #expect(hugeIDs == shortIDs)
        #expect(hugeIDs.count == 254)
        #expect(huge.unicodeScalars.count > 1_000_000)
        #expect(hugeRead <= shortRead + WordPieceTokenizer.stretchLength + sentence.count)
        #expect(hugeRead < 4 * WordPieceTokenizer.stretchLength)
        #expect(Self.tokenizer.encode(huge) == Self.tokenizer.encode(short))
    }

    @Test func cuttingTheTextIntoStretchesChangesNoPiece() {
        // Words and accents straddling the points where stretches could be cut, a control
        // whitespace (NEL, dropped, so it joins its neighbours), and a special token.
        var text = ""
        for index in 0..<600 {
            text += index % 7 == 0 ? "he\u{301}llo\u{85}world " : index % 11 == 0 ? "[SEP]hello! " : "world  "
        }
        let whole = Self.tokenizer.tokenize(text)
        var reference: [String] = []
        // Tokenizing word by word (each a stretch on its own) must give the same pieces.
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            reference += Self.tokenizer.tokenize(String(word))
        }
        #expect(whole == reference)
        #expect(whole.count > 600)
    }
}
