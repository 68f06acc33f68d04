/// A fixed block of floats with a stable address, so the hot loop can hand pointers to BLAS
/// without nested `withUnsafe…` closures.
final class FloatBuffer: @unchecked Sendable {  // written only in init; read-only afterwards, so shared reads are safe
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(1, values.count))
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.initialize(from: base, count: values.count) }
        }
    }

    var readOnly: UnsafePointer<Float> { UnsafePointer(pointer) }

    deinit { pointer.deallocate() }
}
