/// How alike two embeddings are: the one cosine the command line and the tests share.
public enum Similarity {
    /// Cosine similarity, accumulated in Double; NaN when the vectors differ in length, are
    /// empty, or one is all zeros.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return .nan }
        var dot = 0.0
        var normA = 0.0
        var normB = 0.0
        for (x, y) in zip(a, b) {
            dot += Double(x) * Double(y)
            normA += Double(x) * Double(x)
            normB += Double(y) * Double(y)
        }
        return dot / (normA.squareRoot() * normB.squareRoot())
    }
}
