import Inference

/// The WordPiece tokenizer on any text: output framed by [CLS]/[SEP], within the window, and the
/// same pieces as the untruncated tokenization's first ones.
private let vocabulary = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "aff", "!", "hello", "cafe", "中", "##s",
    "a", "##a", "é", "x", "##x", ".", ",",
]
private let tokenizer = try! WordPieceTokenizer(
    vocabulary: vocabulary, specialTokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
    options: .init(maxLength: 16, maxCharactersPerWord: 20))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: FuzzInput.bytes(data, size), as: UTF8.self)
    let ids = tokenizer.encode(text)
    precondition(ids.first == tokenizer.classifierID && ids.last == tokenizer.separatorID, "not framed")
    precondition(ids.count <= tokenizer.options.maxLength, "longer than the window")
    let pieces = tokenizer.tokenize(text)
    let names = ids.dropFirst().dropLast().map { vocabulary[Int($0)] }
    precondition(Array(pieces.prefix(names.count)) == names, "truncated pieces differ from the whole text's")
    return 0
}
