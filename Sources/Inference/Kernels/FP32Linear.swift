/// One linear layer in fp32 on oneDNN, with its weights packed once into the layout oneDNN's
/// kernel reads. OpenBLAS packs the weight matrix again on every call: for one sentence (a
/// product of ~16 rows) that packing was 40 % of the encoder's time (`perf`, docs/benchmarks.md).
final class FP32Linear: PackedLinear {
    let n: Int
    let k: Int
    private let packed: OneDNN.PackedWeights
    let library: OneDNN

    /// Packs `weight`, [n × k] (PyTorch's [out × in]); `name` is the tensor's, for errors.
    init(_ weight: UnsafePointer<Float>, n: Int, k: Int, name: String, library: OneDNN) throws(ModelError) {
        switch library.pack(fp32: weight, n: n, k: k) {
        case .success(let packed): self.packed = packed
        case .failure(let failure): throw .unsupported("fp32 \(name): \(failure.reason)")
        }
        self.n = n
        self.k = k
        self.library = library
    }

    func implementation(rows: Int) -> String? {
        library.primitive(rows: rows, weights: packed)?.implementation
    }

    func apply(rows: Range<Int>, a: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, workspace: Workspace) -> Int {
        guard !rows.isEmpty else { return rows.upperBound }
        let block = Int8Linear.rowBlock
        let staged = workspace.buffer(.stagedRows, count: block * k)
        let product = workspace.buffer(.accumulator, count: block * n)
        let scratch = { (bytes: Int) -> UnsafeMutableRawPointer in
            let raw = UnsafeMutableRawPointer(workspace.buffer(.dnnlScratchpad, count: (bytes + 64) / 4 + 1))
            return raw.alignedUp(toMultipleOf: 64)
        }
        for start in stride(from: rows.lowerBound, to: rows.upperBound, by: block) {
            let count = min(block, rows.upperBound - start)
            // A short block is padded with zero rows to a multiple of 16 (their results are
            // dropped), so that every product has one of a few shapes, each compiled once.
            let padded = min(block, (count + 15) / 16 * 16)
            var source = a + start * k
            if padded != count {
                staged.update(from: source, count: count * k)
                (staged + count * k).update(repeating: 0, count: (padded - count) * k)
                source = UnsafePointer(staged)
            }
            guard library.multiply(rows: padded, a: source, weights: packed, into: product, scratch: scratch) else {
                return start
            }
            // The bias is already in c: the product is added to it.
            VectorMath.add(product, to: c + start * n, count: count * n)
        }
        return rows.upperBound
    }
}

/// A linear layer whose weights a kernel library packed once (`Int8Linear`, `FP32Linear`):
/// c[rows×n] += a[rows×k]·Wᵀ, run by rows.
protocol PackedLinear: Sendable {
    var n: Int { get }
    var k: Int { get }
    var library: OneDNN { get }
    /// oneDNN's implementation for `rows` rows (e.g. `brg:avx512_core`), for reports.
    func implementation(rows: Int) -> String?
    /// Adds the product for the rows `rows` of a into the same rows of c, on the calling thread.
    /// Returns the first row not done: `rows.upperBound` unless oneDNN failed, and then the
    /// caller runs the rows from there on OpenBLAS.
    func apply(rows: Range<Int>, a: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, workspace: Workspace) -> Int
}
