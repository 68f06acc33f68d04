import Foundation

/// Which library runs the fp32 linear layers: oneDNN with each layer's weights packed once
/// (`FP32Linear`), or OpenBLAS, which packs them again on every call. oneDNN unless the
/// environment says `SEALPIPE_FP32_KERNEL=openblas` or oneDNN cannot be opened (then OpenBLAS,
/// as before: the same arithmetic, slower for small batches). Measured side by side in
/// `docs/benchmarks.md` ("fp32 on oneDNN"), where both are run by `Scripts/bench/fp32_kernels.sh`.
enum FP32Kernel: String, Sendable {
    case openBLAS = "openblas"
    case oneDNN = "onednn"

    /// The environment variable that picks the kernel.
    static let variable = "SEALPIPE_FP32_KERNEL"

    /// This process's choice (read once): an unknown value keeps the default, oneDNN.
    static let chosen: FP32Kernel =
        ProcessInfo.processInfo.environment[variable].flatMap { FP32Kernel(rawValue: $0.lowercased()) } ?? .oneDNN
}
