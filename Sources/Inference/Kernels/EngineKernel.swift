import Foundation

/// The kernel this process's engine runs, judged once: OpenBLAS reads `OPENBLAS_CORETYPE` and
/// picks its kernel when the library loads, so the verdict cannot change afterwards.
///
/// The engine does not switch kernels itself. A kernel OpenBLAS was not told to use is not known
/// to compute this model correctly with this OpenBLAS build (some builds compute wrong results on
/// some CPUs, which is why operators pin one); the fix is the operator's, after
/// `Scripts/bench/check_reference.py` has checked it. So a slower kernel is reported loudly —
/// start-up warning, `sealpipe bench model`, and `sealpipe_engine_info` — with the exact setting.
public enum EngineKernel {
    /// This process's report (CPUID read once, `openblas_get_corename()`, `OPENBLAS_CORETYPE`).
    public static let current: KernelReport = KernelReport.assess(
        features: features, kernel: BLAS.coreName,
        pin: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"])

    /// This CPU's usable features (CPUID and XCR0), read once.
    public static let features = CPUFeatures(decoding: .current())

    /// oneDNN's version (e.g. `2.6.3`); nil when it cannot be used (`oneDNNProblem` says why).
    public static var oneDNNVersion: String? { try? OneDNN.shared.get().version }

    /// Why oneDNN cannot be used (the library is missing, or a symbol), or nil when it can.
    public static var oneDNNProblem: String? {
        if case .failure(let failure) = OneDNN.shared { return failure.reason }
        return nil
    }

    /// `openblas_get_config()`, e.g. `OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    public static var configuration: String { BLAS.configuration }
}
