/// The engine's verdict on the matrix kernel it runs: which OpenBLAS kernel, what the CPU could
/// run, whether the operator pinned it, and — when it is slower than the CPU allows — a warning
/// with the exact fix. Pure: `assess` takes the features, the kernel OpenBLAS reports and the
/// pin, so every case is unit-tested without the CPU at hand.
public struct KernelReport: Sendable, Equatable {
    /// How the kernel in use compares with the best one for this CPU.
    public enum Status: String, Sendable {
        /// The best tier the CPU supports.
        case best
        /// Pinned by `OPENBLAS_CORETYPE`: respected, and reported (with the fix, when slower).
        case pinned
        /// OpenBLAS picked a slower tier than the CPU supports, on its own.
        case slower
        /// The kernel needs instructions this CPU (or its OS) does not offer.
        case unsupported
        /// OpenBLAS reports a kernel name this engine does not know.
        case unknown
    }

    /// `openblas_get_corename()`, e.g. `Haswell`.
    public let kernel: String
    /// The `OPENBLAS_CORETYPE` value for the best tier this CPU supports, e.g. `SkylakeX`.
    public let recommended: String
    public let status: Status
    /// The usable features, comma-separated (`CPUFeatures.names`).
    public let cpuFeatures: String
    /// `OPENBLAS_CORETYPE` as set when the process started, if it was.
    public let pin: String?
    /// Set when the engine runs slower than the CPU allows, or on a kernel it cannot vouch for.
    public let warning: String?

    /// Judges `kernel` against what `features` allow. `pin` is the `OPENBLAS_CORETYPE` value.
    public static func assess(features: CPUFeatures, kernel: String, pin: String?) -> KernelReport {
        let pin = pin.flatMap { $0.isEmpty ? nil : $0 }
        let best = BLASKernelTier.best(for: features)
        let tier = BLASKernelTier(coreName: kernel)
        let status: Status
        let warning: String?
        let speed = "matrix products may run several times slower than this CPU allows"
        switch tier {
        case nil:
            status = .unknown
            warning =
                "OpenBLAS reports kernel \(kernel), which this engine does not know; the CPU supports "
                + "\(best.coreType) (\(features.names))."
        case let tier? where !features.isSuperset(of: tier.requires):
            status = .unsupported
            let missing = CPUFeatures.named.filter {
                tier.requires.contains($0.feature) && !features.contains($0.feature)
            }
            warning =
                "OpenBLAS runs its \(kernel) kernel, which needs \(missing.map(\.name).joined(separator: ",")) "
                + "that this CPU or its OS does not offer; set OPENBLAS_CORETYPE=\(best.coreType)."
        case let tier? where tier < best:
            if let pin {
                status = .pinned
                warning =
                    "OpenBLAS runs its \(kernel) kernel because OPENBLAS_CORETYPE=\(pin) is set (respected); "
                    + "this CPU supports \(best.coreType) (\(features.names)), so \(speed). If the pin is not needed "
                    + "for correctness on this host, unset OPENBLAS_CORETYPE or set OPENBLAS_CORETYPE=\(best.coreType)."
            } else {
                status = .slower
                warning =
                    "OpenBLAS chose its \(kernel) kernel, but this CPU supports \(best.coreType) "
                    + "(\(features.names)); \(speed). Fix: start the process with OPENBLAS_CORETYPE=\(best.coreType) "
                    + "(a hypervisor that masks the CPU model makes OpenBLAS fall back)."
            }
        case _?:
            status = pin == nil ? .best : .pinned
            warning = nil
        }
        return KernelReport(
            kernel: kernel, recommended: best.coreType, status: status, cpuFeatures: features.names, pin: pin,
            warning: warning)
    }

    /// One line for logs and reports, e.g. `OpenBLAS kernel Haswell (pinned by OPENBLAS_CORETYPE=Haswell; best
    /// for this CPU: SkylakeX)`.
    public var summary: String {
        var line = "OpenBLAS kernel \(kernel)"
        switch status {
        case .best: line += " (best for this CPU)"
        case .pinned: line += " (pinned by OPENBLAS_CORETYPE=\(pin ?? ""); best for this CPU: \(recommended))"
        case .slower: line += " (OpenBLAS's choice; best for this CPU: \(recommended))"
        case .unsupported, .unknown: line += " (best for this CPU: \(recommended))"
        }
        return line + "; CPU features: \(cpuFeatures)"
    }
}
