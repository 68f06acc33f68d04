#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Vectorised element-wise kernels of the encoder (LayerNorm, GELU, softmax, pooling helpers).
///
/// They work on 8-lane SIMD vectors with unaligned loads; a scalar loop handles each tail.
enum VectorMath {
    typealias Vector = SIMD8<Float>
    static let lanes = Vector.scalarCount

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>, _ offset: Int) -> Vector {
        UnsafeRawPointer(pointer + offset).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>, _ offset: Int) {
        UnsafeMutableRawPointer(pointer + offset).storeBytes(of: value, as: Vector.self)
    }

    /// e^x for each lane of x ≤ 0 (softmax after subtracting the maximum, and erf's e^(-a²) are
    /// the only callers): range reduction by ln 2, a degree-6 polynomial, and 2^n built in the
    /// exponent bits. Relative error about 2e-7; inputs below -87 are clamped there (e^-87 ≈ 1.6e-38).
    @inline(__always)
    static func exp(_ input: Vector) -> Vector {
        let floor = Vector(repeating: -87.0)
        let x = input.replacing(with: floor, where: input .< floor)
        // Adding 1.5·2^23 rounds to the nearest integer and leaves it in the low mantissa bits.
        let magic = Vector(repeating: 12_582_912.0)
        let shifted = x * Vector(repeating: 1.442_695_04) + magic
        let n = shifted - magic
        var r = x - n * Vector(repeating: 0.693_145_751_953_125)
        r = r - n * Vector(repeating: 1.428_606_765_330_187_045e-06)
        var p = Vector(repeating: 1.0 / 720.0)
        p = p * r + Vector(repeating: 1.0 / 120.0)
        p = p * r + Vector(repeating: 1.0 / 24.0)
        p = p * r + Vector(repeating: 1.0 / 6.0)
        p = p * r + Vector(repeating: 0.5)
        p = p * r + Vector(repeating: 1.0)
        p = p * r + Vector(repeating: 1.0)
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vector.self)
        return p * scale
    }

    /// erf for each lane: an odd/even rational minimax approximation on [-4, 4] (beyond it erf is
    /// ±1 in single precision), absolute error below 5e-7, without the exp the classic
    /// Abramowitz–Stegun form needs. The coefficients are those Eigen uses for its float erf.
    @inline(__always)
    static func erf(_ input: Vector) -> Vector {
        let limit = Vector(repeating: 4)
        var x = input.replacing(with: limit, where: input .> limit)
        x.replace(with: -limit, where: x .< -limit)
        let x2 = x * x
        var p = Vector(repeating: -2.726_142_258_013_06e-10)
        p = p * x2 + Vector(repeating: 2.770_681_424_959_02e-08)
        p = p * x2 + Vector(repeating: -2.101_024_020_825_08e-06)
        p = p * x2 + Vector(repeating: -5.692_506_394_623_46e-05)
        p = p * x2 + Vector(repeating: -7.349_906_303_268_55e-04)
        p = p * x2 + Vector(repeating: -2.954_599_808_540_25e-03)
        p = p * x2 + Vector(repeating: -1.609_603_332_624_15e-02)
        p = p * x
        var q = Vector(repeating: -1.456_607_184_649_96e-05)
        q = q * x2 + Vector(repeating: -2.133_740_552_789_05e-04)
        q = q * x2 + Vector(repeating: -1.682_826_974_382_03e-03)
        q = q * x2 + Vector(repeating: -7.373_329_167_204_68e-03)
        q = q * x2 + Vector(repeating: -1.426_473_905_141_89e-02)
        return p / q
    }

    /// In-place GELU with the exact (erf) form BERT uses: x · ½(1 + erf(x/√2)).
    static func gelu(_ data: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.707_106_781_186_547_5
        var index = 0
        while index + lanes <= count {
            let x = load(data, index)
            store(x * 0.5 * (1.0 + erf(x * invSqrt2)), data, index)
            index += lanes
        }
        while index < count {
            let x = data[index]
            data[index] = x * 0.5 * (1 + erff(x * invSqrt2))
            index += 1
        }
    }

    /// In-place LayerNorm of each of `rows` rows of width `width`.
    static func layerNorm(
        _ data: UnsafeMutablePointer<Float>, rows: Int, width: Int,
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, epsilon: Float
    ) {
        for row in 0..<rows {
            let x = data + row * width
            var sum = Vector.zero
            var index = 0
            while index + lanes <= width {
                sum += load(x, index)
                index += lanes
            }
            var total = sum.sum()
            while index < width {
                total += x[index]
                index += 1
            }
            let mean = total / Float(width)
            var squares = Vector.zero
            index = 0
            while index + lanes <= width {
                let d = load(x, index) - mean
                squares += d * d
                index += lanes
            }
            var variance = squares.sum()
            while index < width {
                let d = x[index] - mean
                variance += d * d
                index += 1
            }
            let inverse = 1 / (variance / Float(width) + epsilon).squareRoot()
            index = 0
            while index + lanes <= width {
                let normalized = (load(x, index) - mean) * inverse
                store(normalized * load(gamma, index) + load(beta, index), x, index)
                index += lanes
            }
            while index < width {
                x[index] = (x[index] - mean) * inverse * gamma[index] + beta[index]
                index += 1
            }
        }
    }

    /// In-place softmax of each of `rows` rows of `width` values, rows `stride` apart.
    static func softmaxRows(_ data: UnsafeMutablePointer<Float>, rows: Int, width: Int, stride: Int) {
        for row in 0..<rows {
            let x = data + row * stride
            var maximum = -Float.infinity
            for index in 0..<width { maximum = max(maximum, x[index]) }
            var sums = Vector.zero
            var index = 0
            let shift = Vector(repeating: maximum)
            while index + lanes <= width {
                let e = exp(load(x, index) - shift)
                store(e, x, index)
                sums += e
                index += lanes
            }
            var total = sums.sum()
            while index < width {
                let e = expf(x[index] - maximum)
                x[index] = e
                total += e
                index += 1
            }
            let inverse = Vector(repeating: 1 / total)
            index = 0
            while index + lanes <= width {
                store(load(x, index) * inverse, x, index)
                index += lanes
            }
            while index < width {
                x[index] *= inverse[0]
                index += 1
            }
        }
    }

    /// Copies `bias` into each of `rows` rows (so that a following gemm with beta 1 adds it).
    static func broadcastRows(
        _ bias: UnsafePointer<Float>, width: Int, into data: UnsafeMutablePointer<Float>, rows: Int
    ) {
        for row in 0..<rows { (data + row * width).update(from: bias, count: width) }
    }

    /// data[i] += values[i] for `count` elements.
    static func add(_ values: UnsafePointer<Float>, to data: UnsafeMutablePointer<Float>, count: Int) {
        var index = 0
        while index + lanes <= count {
            store(load(data, index) + load(values, index), data, index)
            index += lanes
        }
        while index < count {
            data[index] += values[index]
            index += 1
        }
    }

    /// Adds `bias` to each of `rows` rows.
    static func addRows(_ bias: UnsafePointer<Float>, width: Int, to data: UnsafeMutablePointer<Float>, rows: Int) {
        for row in 0..<rows { add(bias, to: data + row * width, count: width) }
    }
}
