/// Hidden states of a batch of sequences, packed without padding.
///
/// Sequence `i` occupies `lengths[i]` consecutive rows of `hiddenSize` floats. The lengths are
/// the attention mask in run-length form: BERT masks are always a prefix of real tokens, so a
/// padded [batch × maxLength] mask carries nothing more, and packing skips all padding work.
public struct HiddenStates: Sendable, Equatable {
    public let hiddenSize: Int
    /// Real tokens per sequence.
    public let lengths: [Int]
    /// Row-major [tokenCount × hiddenSize], sequences one after another.
    public var values: [Float]

    /// Creates hidden states; `values.count` must equal `lengths.sum × hiddenSize`.
    public init(hiddenSize: Int, lengths: [Int], values: [Float]) {
        precondition(hiddenSize > 0 && lengths.allSatisfy { $0 >= 0 }, "HiddenStates: invalid dimensions")
        precondition(values.count == lengths.reduce(0, +) * hiddenSize, "HiddenStates: value count mismatch")
        self.hiddenSize = hiddenSize
        self.lengths = lengths
        self.values = values
    }

    public var batchSize: Int { lengths.count }
    public var tokenCount: Int { lengths.reduce(0, +) }

    /// The attention mask padded to the longest sequence (1 = real token, 0 = padding).
    public var paddedMask: [[UInt8]] {
        let longest = lengths.max() ?? 0
        return lengths.map { Array(repeating: 1, count: $0) + Array(repeating: 0, count: longest - $0) }
    }

    /// The rows of sequence `index`.
    public func sequence(_ index: Int) -> ArraySlice<Float> {
        let start = lengths[..<index].reduce(0, +) * hiddenSize
        return values[start..<(start + lengths[index] * hiddenSize)]
    }
}
