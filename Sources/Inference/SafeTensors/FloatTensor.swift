/// A tensor of 32-bit floats in row-major order, owned in memory.
public struct FloatTensor: Sendable, Equatable {
    public var shape: [Int]
    public var values: [Float]

    /// Creates a tensor; the value count must equal the product of the shape.
    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "FloatTensor: \(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = values
    }
}
