import Foundation

extension WordPieceTokenizer {
    /// Calls `body` with each piece id of `text` in order, stopping after `limit` pieces.
    func forEachPiece(in text: String, limit: Int, _ body: (Int32) -> Void) {
        var emitted = 0
        let scalars = Array(text.unicodeScalars)
        var segmentStart = 0
        var index = 0
        func emit(_ id: Int32) -> Bool {
            guard emitted < limit else { return false }
            body(id)
            emitted += 1
            return emitted < limit
        }
        while index < scalars.count {
            if let special = specialToken(in: scalars, at: index) {
                if segmentStart < index, !tokenizeSegment(scalars[segmentStart..<index], emit) { return }
                guard emit(special.id) else { return }
                index += special.length
                segmentStart = index
            } else {
                index += 1
            }
        }
        if segmentStart < scalars.count { _ = tokenizeSegment(scalars[segmentStart...], emit) }
    }

    private func specialToken(in scalars: [Unicode.Scalar], at index: Int) -> (id: Int32, length: Int)? {
        for token in specialTokens where token.scalars.first == scalars[index] {
            let end = index + token.scalars.count
            if end <= scalars.count, scalars[index..<end].elementsEqual(token.scalars) {
                return (token.id, token.scalars.count)
            }
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
