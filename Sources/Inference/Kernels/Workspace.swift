/// Scratch buffers reused across forward passes; they only grow, so steady-state runs allocate nothing.
final class Workspace {
    private var buffers: [UnsafeMutablePointer<Float>?]
    private var capacities: [Int]

    enum Slot: Int, CaseIterable {
        case hidden, qkv, context, intermediate, scores
        /// oneDNN products: u8 activations and s32 accumulators (int8) or f32 results (fp32),
        /// stored in float-sized slots; a short block of rows padded to a compiled shape.
        case quantized, accumulator, dnnlScratchpad, stagedRows
    }

    init() {
        buffers = Array(repeating: nil, count: Slot.allCases.count)
        capacities = Array(repeating: 0, count: Slot.allCases.count)
    }

    /// A buffer of at least `count` floats; its contents are unspecified.
    func buffer(_ slot: Slot, count: Int) -> UnsafeMutablePointer<Float> {
        let index = slot.rawValue
        if let existing = buffers[index], capacities[index] >= count { return existing }
        buffers[index]?.deallocate()
        let capacity = max(count, capacities[index] * 3 / 2, 1)
        let fresh = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
        buffers[index] = fresh
        capacities[index] = capacity
        return fresh
    }

    deinit {
        for buffer in buffers { buffer?.deallocate() }
    }
}
