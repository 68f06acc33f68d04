import Foundation
import Testing

@testable import Inference

@Suite("VectorMath", .timeLimit(.minutes(1)))
struct VectorMathTests {
    static let grid: [Float] = stride(from: -12.0, through: 12.0, by: 0.01).map { Float($0) }

    @Test func gELUMatchesTheErfFormula() {
        var values = Self.grid
        values.withUnsafeMutableBufferPointer { VectorMath.gelu($0.baseAddress!, count: $0.count) }
        for (x, y) in zip(Self.grid, values) {
            let exact = Double(x) * 0.5 * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))
            #expect(abs(Double(y) - exact) <= 2e-6 * max(1, abs(exact)), "gelu(\(x))")
        }
    }

    @Test func expIsAccurateForNonPositiveInputs() {
        let inputs = stride(from: -100.0, through: 0.0, by: 0.037).map { Float($0) }
        var index = 0
        while index + 8 <= inputs.count {
            let lanes = VectorMath.Vector(inputs[index..<(index + 8)])
            let result = VectorMath.exp(lanes)
            for lane in 0..<8 {
                let exact = Foundation.exp(Double(max(inputs[index + lane], -87)))
                #expect(abs(Double(result[lane]) - exact) <= 1e-6 * exact + 1e-38, "exp(\(inputs[index + lane]))")
            }
            index += 8
        }
    }

    @Test func softmaxMatchesExpAndSumsToOne() {
        let width = 37  // not a multiple of 8: exercises the tail
        var rows = (0..<(3 * width)).map { Float(($0 * 7919) % 200) / 10 - 10 }
        let original = rows
        rows.withUnsafeMutableBufferPointer {
            VectorMath.softmaxRows($0.baseAddress!, rows: 3, width: width, stride: width)
        }
        for row in 0..<3 {
            let slice = original[(row * width)..<((row + 1) * width)].map(Double.init)
            let top = slice.max()!
            let total = slice.reduce(0) { $0 + Foundation.exp($1 - top) }
            for column in 0..<width {
                let exact = Foundation.exp(slice[column] - top) / total
                #expect(abs(Double(rows[row * width + column]) - exact) <= 1e-6)
            }
        }
    }

    @Test func layerNormMatchesTheDefinition() {
        let width = 20
        var row = (0..<width).map { Float($0 * $0) / 7 - 3 }
        let original = row
        let gamma = (0..<width).map { 1 + Float($0) / 10 }
        let beta = (0..<width).map { Float($0) / 100 }
        row.withUnsafeMutableBufferPointer { x in
            VectorMath.layerNorm(x.baseAddress!, rows: 1, width: width, gamma: gamma, beta: beta, epsilon: 1e-12)
        }
        let mean = original.map(Double.init).reduce(0, +) / Double(width)
        let variance = original.map { (Double($0) - mean) * (Double($0) - mean) }.reduce(0, +) / Double(width)
        for index in 0..<width {
            let exact =
                (Double(original[index]) - mean) / variance.squareRoot() * Double(gamma[index]) + Double(beta[index])
            #expect(abs(Double(row[index]) - exact) <= 1e-5)
        }
    }
}
