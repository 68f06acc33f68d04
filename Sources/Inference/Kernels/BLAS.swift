internal import COpenBLAS

/// The few OpenBLAS calls the encoder needs, with no C type leaking out.
enum BLAS {
    /// Sets OpenBLAS's worker count for the whole process (it is a process-wide setting).
    static func setThreadCount(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The kernel family OpenBLAS picked for this CPU (for benchmark reports).
    static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's build description (version, dynamic dispatch, the kernel in use).
    static var configuration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// Row-major C[m×n] = alpha·A[m×k]·op(B) + beta·C, where op(B) is B[k×n] or, with
    /// `transposeB`, Bᵀ for B stored as [n×k] (PyTorch's Linear weight layout).
    @inline(__always)
    static func gemm(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
    }
}
