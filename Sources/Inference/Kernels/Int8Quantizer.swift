/// The int8 arithmetic of the linear layers: weights symmetric s8 per output channel (once, at
/// load), activations asymmetric u8 per row (each call), and the dequantisation back to fp32.
///
/// A row x is stored as q = round(x/s) + z in 0…255 with s = (max − min)/255 over the row and 0
/// (so zero is exact); a weight row w as p = round(w/t) with t = max|w|/limit. Then
/// Σₖ xₖwₖ ≈ s·t·(Σₖ qₖpₖ − z·Σₖ pₖ): the integer product runs in oneDNN, the correction and
/// scales here. Per row rather than per tensor, because hidden states after LayerNorm and
/// GELU outputs have rows of very different ranges.
enum Int8Quantizer {
    /// Why weights cannot be quantized.
    struct WeightError: Error, Equatable, Sendable {
        /// The output channel (row of the [out × in] matrix).
        let row: Int
        let reason: String
    }

    /// s8 weights with their per-row scales and the sums the zero-point correction needs.
    struct Weights: Equatable {
        let values: [Int8]
        let scales: [Float]
        let rowSums: [Int32]
    }

    /// Quantizes `weights`, [rows × columns] row-major (PyTorch's [out × in]), to integers in
    /// −limit…limit per row. A row of zeros gets scale 0 (it contributes nothing); a row with a
    /// NaN or infinity is refused, since it would silently poison every output of its channel.
    ///
    /// `limit` is `Int8Range.weights` (127).
    static func quantizeWeights(_ weights: [Float], rows: Int, columns: Int, limit: Int) throws(WeightError) -> Weights
    {
        precondition(weights.count == rows * columns && (1...127).contains(limit), "quantizeWeights: bad shape")
        var values = [Int8](repeating: 0, count: weights.count)
        var scales = [Float](repeating: 0, count: rows)
        var sums = [Int32](repeating: 0, count: rows)
        for row in 0..<rows {
            let base = row * columns
            var largest: Float = 0
            for column in 0..<columns {
                let w = weights[base + column]
                guard w.isFinite else { throw WeightError(row: row, reason: "value \(column) is \(w)") }
                largest = max(largest, abs(w))
            }
            guard largest > 0 else { continue }
            let scale = largest / Float(limit)
            let inverse = 1 / scale
            var sum: Int32 = 0
            for column in 0..<columns {
                let q = Int32((weights[base + column] * inverse).rounded(.toNearestOrEven))
                let clamped = min(max(q, Int32(-limit)), Int32(limit))
                values[base + column] = Int8(clamped)
                sum += clamped
            }
            scales[row] = scale
            sums[row] = sum
        }
        return Weights(values: values, scales: scales, rowSums: sums)
    }

    /// How one activation row was quantized: x ≈ scale · (q − zeroPoint).
    struct RowScale: Equatable {
        var scale: Float
        var zeroPoint: Int32
    }

    /// Quantizes `count` floats at `x` into `q`, in 0…`levels` (`Int8Range.activations`: 255, or
    /// 127 on CPUs without VNNI). A row of zeros gets scale 0 and all q = 0: it
    /// contributes exactly nothing. A row holding NaN or an infinity gets scale NaN, so its
    /// outputs are NaN as in fp32, and the stage codec refuses them rather than passing them on.
    static func quantizeRow(
        _ x: UnsafePointer<Float>, count: Int, into q: UnsafeMutablePointer<UInt8>, levels: Int = 255
    ) -> RowScale {
        typealias Vector = SIMD8<Float>
        let lanes = Vector.scalarCount
        var low = Vector.zero
        var high = Vector.zero
        // min and max pass over NaN, so NaN and infinities are caught apart: v·0 is NaN for both.
        var poison = Vector.zero
        var index = 0
        while index + lanes <= count {
            let v = VectorMath.load(x, index)
            // Masked blends, not pointwiseMin/Max: those stay generic (per-lane calls) here.
            low = low.replacing(with: v, where: v .< low)
            high = high.replacing(with: v, where: v .> high)
            poison += v * 0
            index += lanes
        }
        var minimum = low.min()
        var maximum = high.max()
        var tail: Float = 0
        while index < count {
            minimum = min(minimum, x[index])
            maximum = max(maximum, x[index])
            tail += x[index] * 0
            index += 1
        }
        guard (poison.sum() + tail).isFinite else {
            q.update(repeating: 0, count: count)
            return RowScale(scale: .nan, zeroPoint: 0)
        }
        guard maximum > minimum else {
            // Only when every value is zero (the range always includes zero).
            q.update(repeating: 0, count: count)
            return RowScale(scale: 0, zeroPoint: 0)
        }
        let top = Int32(levels)
        let scale = (maximum - minimum) / Float(levels)
        let zeroPoint = min(max(Int32((-minimum / scale).rounded(.toNearestOrEven)), 0), top)
        // Rounding by adding 2^23: for y in [0, 255], y + 2^23 has ulp 1, so the hardware rounds
        // to nearest even and round(y) is the low byte of its bits. (SIMD's rounding conversion to
        // integers is not vectorised and cost more than the int8 product itself.)
        let inverse = Vector(repeating: 1 / scale)
        let offset = Vector(repeating: Float(zeroPoint))
        let floor = Vector(repeating: 0)
        let ceiling = Vector(repeating: Float(levels))
        let magic = Vector(repeating: 8_388_608)
        index = 0
        while index + lanes <= count {
            var y = VectorMath.load(x, index) * inverse + offset
            y = y.replacing(with: floor, where: y .< floor)
            y = y.replacing(with: ceiling, where: y .> ceiling)
            let bits = unsafeBitCast(y + magic, to: SIMD8<UInt32>.self)
            for lane in 0..<lanes { q[index + lane] = UInt8(truncatingIfNeeded: bits[lane]) }
            index += lanes
        }
        while index < count {
            let scaled = Int32((x[index] / scale).rounded(.toNearestOrEven)) + zeroPoint
            q[index] = UInt8(min(max(scaled, 0), top))
            index += 1
        }
        return RowScale(scale: scale, zeroPoint: zeroPoint)
    }

    /// c[row] += rowScale.scale · weightScale[j] · (accumulator[row][j] − zeroPoint · rowSum[j])
    /// for the `n` columns of one row.
    @inline(__always)
    static func dequantizeRow(
        _ accumulator: UnsafePointer<Int32>, row: RowScale, weightScales: UnsafePointer<Float>,
        rowSums: UnsafePointer<Int32>, n: Int, adding c: UnsafeMutablePointer<Float>
    ) {
        let lanes = 8
        let zero = SIMD8<Int32>(repeating: row.zeroPoint)
        let scale = SIMD8<Float>(repeating: row.scale)
        var index = 0
        while index + lanes <= n {
            let sums = UnsafeRawPointer(rowSums + index).loadUnaligned(as: SIMD8<Int32>.self)
            let raw = UnsafeRawPointer(accumulator + index).loadUnaligned(as: SIMD8<Int32>.self)
            let corrected = SIMD8<Float>(raw &- zero &* sums)
            let value = corrected * scale * VectorMath.load(weightScales, index)
            VectorMath.store(VectorMath.load(c, index) + value, c, index)
            index += lanes
        }
        while index < n {
            let corrected = Float(accumulator[index] &- row.zeroPoint &* rowSums[index])
            c[index] += corrected * row.scale * weightScales[index]
            index += 1
        }
    }
}
