import Foundation

extension WordPieceTokenizer {
    /// Scalars gathered before a stretch of text is normalised (at the next whitespace).
    static let stretchLength = 1024

    /// Calls `body` with each piece id of `text` in order, stopping after `limit` pieces, and
    /// returns how many scalars of `text` it read.
    ///
    /// Text is normalised a stretch at a time, each cut just after whitespace that survives
    /// cleaning (no word, and no canonical decomposition, spans such a cut, so the pieces are the
    /// same as from the whole text), and reading stops once `limit` pieces are out: a megabyte of
    /// text costs about what the words that fill the window do.
    @discardableResult
    func forEachPiece(in text: String, limit: Int, _ body: (Int32) -> Void) -> Int {
        var emitted = 0
        func emit(_ id: Int32) -> Bool {
            guard emitted < limit else { return false }
            body(id)
            emitted += 1
            return emitted < limit
        }
        guard limit > 0 else { return 0 }
        let scalars = text.unicodeScalars
        var stretch: [Unicode.Scalar] = []
        var read = 0
        var index = scalars.startIndex
        while index < scalars.endIndex {
            if let special = specialToken(in: scalars, at: index) {
                if !stretch.isEmpty, !tokenizeSegment(stretch[...], emit) { return read }
                stretch.removeAll(keepingCapacity: true)
                read += special.length
                guard emit(special.id) else { return read }
                index = special.end
                continue
            }
            let scalar = scalars[index]
            stretch.append(scalar)
            read += 1
            index = scalars.index(after: index)
            if stretch.count >= Self.stretchLength, Self.isWhitespace(scalar), !Self.isControl(scalar) {
                guard tokenizeSegment(stretch[...], emit) else { return read }
                stretch.removeAll(keepingCapacity: true)
            }
        }
        if !stretch.isEmpty { _ = tokenizeSegment(stretch[...], emit) }
        return read
    }

    /// The literal special token starting at `index`, the longest if several do.
    private func specialToken(
        in scalars: String.UnicodeScalarView, at index: String.UnicodeScalarView.Index
    ) -> (id: Int32, length: Int, end: String.UnicodeScalarView.Index)? {
        let first = scalars[index]
        for token in specialTokens where token.scalars.first == first {
            var cursor = index
            var matched = true
            for expected in token.scalars {
                guard cursor < scalars.endIndex, scalars[cursor] == expected else {
                    matched = false
                    break
                }
                cursor = scalars.index(after: cursor)
            }
            if matched { return (token.id, token.scalars.count, cursor) }
        }
        return nil
    }

    /// Normalises one stretch of text between special tokens and emits its pieces; false once `emit` wants no more.
    private func tokenizeSegment(_ segment: ArraySlice<Unicode.Scalar>, _ emit: (Int32) -> Bool) -> Bool {
        var cleaned = String.UnicodeScalarView()
        for scalar in segment {
            if scalar.value == 0 || scalar.value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if options.splitChineseCharacters, Self.isChineseCharacter(scalar) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
            } else {
                cleaned.append(scalar)
            }
        }
        var text = String(cleaned)
        if options.stripAccents ?? options.lowercase {
            var stripped = String.UnicodeScalarView()
            for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars
            where scalar.properties.generalCategory != .nonspacingMark {
                stripped.append(scalar)
            }
            text = String(stripped)
        }
        var word: [Unicode.Scalar] = []
        func flush() -> Bool {
            defer { word.removeAll(keepingCapacity: true) }
            return word.isEmpty || emitPieces(of: word, emit)
        }
        for original in text.unicodeScalars {
            // Lower-casing scalar by scalar, as the reference does (no context such as final sigma).
            let mapped: [Unicode.Scalar] =
                options.lowercase && original.properties.changesWhenLowercased
                ? Array(original.properties.lowercaseMapping.unicodeScalars) : [original]
            for scalar in mapped {
                if Self.isWhitespace(scalar) {
                    guard flush() else { return false }
                } else if Self.isPunctuation(scalar) {
                    guard flush() else { return false }
                    word.append(scalar)
                    guard flush() else { return false }
                } else {
                    word.append(scalar)
                }
            }
        }
        return flush()
    }

    /// Greedy longest-match-first split of one word; the whole word is `[UNK]` if any part has no piece.
    private func emitPieces(of word: [Unicode.Scalar], _ emit: (Int32) -> Bool) -> Bool {
        guard word.count <= options.maxCharactersPerWord else { return emit(unknownID) }
        var pieces: [Int32] = []
        var start = 0
        while start < word.count {
            var end = min(word.count, start + longestPiece)
            var found: Int32?
            while start < end {
                var candidate = String.UnicodeScalarView()
                if start > 0 { candidate.append(contentsOf: "##".unicodeScalars) }
                candidate.append(contentsOf: word[start..<end])
                if let id = vocabulary[String(candidate)] {
                    found = id
                    break
                }
                end -= 1
            }
            guard let found else { return emit(unknownID) }
            pieces.append(found)
            start = end
        }
        for piece in pieces {
            guard emit(piece) else { return false }
        }
        return true
    }

    /// Tab, newline and carriage return count as whitespace, not control, as in BERT.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar.properties.isWhitespace
    }

    /// Control, format and private-use characters are dropped; unassigned code points are kept,
    /// as the reference tokenizer does.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar == "\t" || scalar == "\n" || scalar == "\r" { return false }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// ASCII symbols count as punctuation too (BERT's rule), plus every Unicode P* category.
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value)
            || (123...126).contains(value)
        {
            return true
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideographs blocks BERT isolates (not Hangul, Hiragana or Katakana).
    static func isChineseCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
            0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F:
            return true
        default:
            return false
        }
    }
}
