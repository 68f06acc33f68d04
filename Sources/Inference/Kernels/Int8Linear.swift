/// One linear layer in int8: weights quantized per output channel and packed for oneDNN once,
/// activations quantized per row on each call, the product dequantized into fp32.
final class Int8Linear: PackedLinear {
    /// Output features (rows of the PyTorch weight).
    let n: Int
    /// Input features.
    let k: Int
    private let packed: OneDNN.PackedWeights
    let library: OneDNN
    let range: Int8Range
    private let scales: FloatBuffer
    private let rowSums: Int32Buffer

    /// Quantizes and packs `weight`, [n × k] (PyTorch's [out × in]); `name` is the tensor's,
    /// for errors. `range` is `Int8Linear.range(for:)` of this CPU.
    init(
        _ weight: UnsafePointer<Float>, n: Int, k: Int, name: String, range: Int8Range, library: OneDNN
    ) throws(ModelError) {
        let values = Array(UnsafeBufferPointer(start: weight, count: n * k))
        let quantized: Int8Quantizer.Weights
        do {
            quantized = try Int8Quantizer.quantizeWeights(values, rows: n, columns: k, limit: range.weights)
        } catch {
            throw .badFile(path: "model.safetensors", reason: "\(name) row \(error.row): \(error.reason)")
        }
        switch library.pack(quantized.values, n: n, k: k) {
        case .success(let packed): self.packed = packed
        case .failure(let failure): throw .unsupported("int8 \(name): \(failure.reason)")
        }
        self.n = n
        self.k = k
        self.library = library
        self.range = range
        scales = FloatBuffer(quantized.scales)
        rowSums = Int32Buffer(quantized.rowSums)
    }

    /// The int8 ranges for a CPU, or nil where int8 cannot meet its accuracy bound. With VNNI
    /// (or AMX-INT8) u8·s8 dot products are exact. Without, oneDNN's AVX2 and AVX-512 kernels use
    /// `vpmaddubsw`, whose 16-bit sums of two products saturate beyond 32 767 (255·127·2 would),
    /// so a range must shrink — and both ways measured below cosine 0.99 on the fixture: ±63
    /// weights 0.9897 (two cases), 0–127 activations 0.972. There the model runs fp32 and says so.
    static func range(for features: CPUFeatures) -> Int8Range? {
        features.contains(.avx512vnni) || features.contains(.amxInt8) ? .full : nil
    }

    /// oneDNN's implementation for `rows` rows (e.g. `brg:avx512_core_vnni`), for reports.
    func implementation(rows: Int) -> String? {
        library.primitive(rows: rows, weights: packed)?.implementation
    }

    /// c[m×n] += a[m×k]·Wᵀ for the rows `rows` of a (and of c), on the calling thread, with
    /// scratch from `workspace`. Returns the first row not done: `rows.upperBound`, unless
    /// oneDNN failed, and then the caller runs the rows from there in fp32.
    func apply(
        rows: Range<Int>, a: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, workspace: Workspace
    ) -> Int {
        guard !rows.isEmpty else { return rows.upperBound }
        let block = Self.rowBlock
        // Integer buffers carved from float slots: 4 bytes per float, so k/4 floats per u8 row.
        let quantized = UnsafeMutableRawPointer(workspace.buffer(.quantized, count: (block * k + 3) / 4))
            .assumingMemoryBound(to: UInt8.self)
        let accumulator = UnsafeMutableRawPointer(workspace.buffer(.accumulator, count: block * n))
            .assumingMemoryBound(to: Int32.self)
        var rowScales = [Int8Quantizer.RowScale](repeating: .init(scale: 0, zeroPoint: 0), count: block)
        for start in stride(from: rows.lowerBound, to: rows.upperBound, by: block) {
            let count = min(block, rows.upperBound - start)
            for index in 0..<count {
                rowScales[index] = Int8Quantizer.quantizeRow(
                    a + (start + index) * k, count: k, into: quantized + index * k, levels: range.activations)
            }
            // A short last block is padded with zero rows to a multiple of 16, whose results are
            // dropped: every product then has one of a few shapes, each compiled once.
            let padded = min(block, (count + 15) / 16 * 16)
            (quantized + count * k).update(repeating: 0, count: (padded - count) * k)
            let scratch = { (bytes: Int) -> UnsafeMutableRawPointer in
                // 64-byte aligned inside a float slot with room to spare.
                let raw = UnsafeMutableRawPointer(workspace.buffer(.dnnlScratchpad, count: (bytes + 64) / 4 + 1))
                return raw.alignedUp(toMultipleOf: 64)
            }
            guard library.multiply(rows: padded, a: quantized, weights: packed, into: accumulator, scratch: scratch)
            else {
                return start
            }
            for index in 0..<count {
                Int8Quantizer.dequantizeRow(
                    accumulator + index * n, row: rowScales[index], weightScales: scales.readOnly,
                    rowSums: rowSums.readOnly, n: n, adding: c + (start + index) * n)
            }
        }
        return rows.upperBound
    }

    /// Rows per oneDNN call: products run in blocks of this many rows (the last padded to a
    /// multiple of 16), so that a layer needs at most 9 compiled shapes, whatever the batch.
    static let rowBlock = 128
}

/// A fixed block of Int32 with a stable address (the weights' row sums).
final class Int32Buffer: @unchecked Sendable {  // written only in init; read-only afterwards
    let pointer: UnsafeMutablePointer<Int32>

    init(_ values: [Int32]) {
        pointer = .allocate(capacity: max(1, values.count))
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.initialize(from: base, count: values.count) }
        }
    }

    var readOnly: UnsafePointer<Int32> { UnsafePointer(pointer) }

    deinit { pointer.deallocate() }
}

/// The integer ranges of the int8 path: weights in −weights…weights, activations in 0…activations.
struct Int8Range: Equatable, Sendable {
    let weights: Int
    let activations: Int

    /// CPUs with VNNI: s8 weights, u8 activations.
    static let full = Int8Range(weights: 127, activations: 255)
    /// What a CPU without VNNI would need so that `vpmaddubsw` cannot saturate (127·127·2 ≤ 32 767);
    /// measured below the accuracy bound, so not used (`Int8Linear.range(for:)`).
    static let sevenBitActivations = Int8Range(weights: 127, activations: 127)
    /// The other way to avoid saturation (255·63·2 ≤ 32 767); also below the bound.
    static let sevenBitWeights = Int8Range(weights: 63, activations: 255)
}
