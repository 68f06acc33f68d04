import Testing

@testable import Inference

/// The quantizer's arithmetic, degenerate rows included, and one int8 product against fp32.
@Suite("int8 quantizer")
struct Int8QuantizerTests {
    static func quantize(_ row: [Float]) -> (Int8Quantizer.RowScale, [UInt8]) {
        var q = [UInt8](repeating: 7, count: row.count)
        let scale = row.withUnsafeBufferPointer { x in
            q.withUnsafeMutableBufferPointer {
                Int8Quantizer.quantizeRow(x.baseAddress!, count: row.count, into: $0.baseAddress!)
            }
        }
        return (scale, q)
    }

    @Test func aRowOfZerosContributesExactlyNothing() {
        for width in [1, 8, 13, 384] {
            let (scale, q) = Self.quantize([Float](repeating: 0, count: width))
            #expect(scale == .init(scale: 0, zeroPoint: 0))
            #expect(q.allSatisfy { $0 == 0 })
            var c: [Float] = [1.5, -2]
            let accumulator: [Int32] = [0, 0]
            c.withUnsafeMutableBufferPointer {
                Int8Quantizer.dequantizeRow(
                    accumulator, row: scale, weightScales: [0.5, 0.25], rowSums: [10, -3], n: 2, adding: $0.baseAddress!
                )
            }
            #expect(c == [1.5, -2], "no NaN from 0/0, and nothing added")
        }
    }

    @Test func aRowWithNaNOrInfinityBecomesNaNNotAFiniteLie() {
        for poison in [Float.nan, .infinity, -.infinity] {
            for position in [0, 5, 11] {  // in the vector part and in the tail
                var row = [Float](repeating: 0.25, count: 12)
                row[position] = poison
                let (scale, q) = Self.quantize(row)
                #expect(scale.scale.isNaN, "\(poison) at \(position)")
                #expect(q.allSatisfy { $0 == 0 })
            }
        }
    }

    @Test func rowsRoundTripWithinHalfAStep() {
        let rows: [[Float]] = [
            (0..<37).map { Float($0) * 0.1 - 1.2 },  // both signs
            (0..<16).map { Float($0) * 0.5 + 1 },  // positive only: zero still in range
            (0..<9).map { -Float($0) - 3 },  // negative only
            [Float](repeating: 4, count: 10),  // constant
        ]
        for row in rows {
            let (scale, q) = Self.quantize(row)
            #expect(scale.scale > 0 && (0...255).contains(scale.zeroPoint))
            for (x, stored) in zip(row, q) {
                let back = scale.scale * Float(Int32(stored) - scale.zeroPoint)
                #expect(abs(back - x) <= scale.scale * 0.5001, "\(x) came back as \(back)")
            }
        }
    }

    @Test func weightsPerChannelSymmetricWithZeroRowsAndRefusal() throws {
        let weights: [Float] = [0.4, -1, 0.2, 0, 0, 0, 3, 1.2, -3]
        let quantized = try Int8Quantizer.quantizeWeights(weights, rows: 3, columns: 3, limit: 127)
        #expect(quantized.values == [51, -127, 25, 0, 0, 0, 127, 51, -127])
        #expect(quantized.scales == [1 / 127, 0, 3 / 127])
        #expect(quantized.rowSums == [-51, 0, 51])
        let narrow = try Int8Quantizer.quantizeWeights(weights, rows: 3, columns: 3, limit: 63)
        #expect(narrow.values.allSatisfy { abs(Int($0)) <= 63 })
        #expect(throws: Int8Quantizer.WeightError(row: 1, reason: "value 2 is nan")) {
            try Int8Quantizer.quantizeWeights([1, 2, 3, 4, 5, .nan], rows: 2, columns: 3, limit: 127)
        }
    }

    @Test func int8RunsOnlyWithVNNI() {
        #expect(Int8Linear.range(for: [.avx2, .fma]) == nil)
        #expect(Int8Linear.range(for: [.avx512f, .avx512bw]) == nil)
        #expect(Int8Linear.range(for: [.avx512f, .avx512bw, .avx512vnni]) == .full)
        #expect(Int8Linear.range(for: [.avx2, .fma, .amxTile, .amxInt8]) == .full)
        for range in [Int8Range.sevenBitActivations, .sevenBitWeights] {
            #expect(range.activations * range.weights * 2 <= 32_767, "no vpmaddubsw saturation")
        }
    }

    @Test func sevenBitRowsStayBelow128() {
        let row = (0..<21).map { Float($0) - 7.5 }
        var q = [UInt8](repeating: 0, count: row.count)
        let scale = row.withUnsafeBufferPointer { x in
            q.withUnsafeMutableBufferPointer {
                Int8Quantizer.quantizeRow(x.baseAddress!, count: row.count, into: $0.baseAddress!, levels: 127)
            }
        }
        #expect(q.max() == 127 && q.min() == 0)
        for (x, stored) in zip(row, q) {
            #expect(abs(scale.scale * Float(Int32(stored) - scale.zeroPoint) - x) <= scale.scale * 0.5001)
        }
    }

    @Test(.enabled(if: EngineKernel.oneDNNVersion != nil, "oneDNN (libdnnl.so.2) not installed"))
    func anInt8ProductIsCloseToFP32() throws {
        let library = try OneDNN.shared.get()
        let m = Int8Linear.rowBlock + 23  // a full block and a padded one
        let n = 40
        let k = 72
        var generator = SplitMix(seed: 15)
        let a = (0..<(m * k)).map { _ in Float(generator.unit() * 4 - 2) }
        var weight = (0..<(n * k)).map { _ in Float(generator.unit() - 0.5) }
        for column in 0..<k { weight[5 * k + column] = 0 }  // an all-zero output channel
        for column in 0..<k { weight[column] = 0 }
        let a2 = a
        let linear = try weight.withUnsafeBufferPointer {
            try Int8Linear($0.baseAddress!, n: n, k: k, name: "test", range: .full, library: library)
        }
        var exact = [Float](repeating: 0.5, count: m * n)
        var quantized = exact
        a2.withUnsafeBufferPointer { pa in
            weight.withUnsafeBufferPointer { pw in
                exact.withUnsafeMutableBufferPointer { pc in
                    BLAS.gemm(
                        m: m, n: n, k: k, a: pa.baseAddress!, lda: k, b: pw.baseAddress!, ldb: k, transposeB: true,
                        beta: 1, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        let workspace = Workspace()
        let ran = a2.withUnsafeBufferPointer { pa in
            quantized.withUnsafeMutableBufferPointer { pc in
                linear.apply(rows: 0..<m, a: pa.baseAddress!, c: pc.baseAddress!, workspace: workspace) == m
                    && linear.apply(rows: 0..<0, a: pa.baseAddress!, c: pc.baseAddress!, workspace: workspace) == 0
            }
        }
        #expect(ran)
        #expect(TestSupport.cosine(exact, quantized) >= 0.999)
        for row in 0..<m {
            #expect(quantized[row * n + 5] == 0.5, "the zero channel adds exactly nothing")
            #expect(quantized[row * n] == 0.5)
        }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
