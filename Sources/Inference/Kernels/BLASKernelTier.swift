/// What an OpenBLAS kernel family needs of the CPU for single-precision products, from the
/// generic SSE2/SSE3 code up to AVX-512. Kernels within one tier run the same sgemm code
/// (Zen's are Haswell's, Cooperlake's and Sapphire Rapids' are SkylakeX's), so the tier, not
/// the name, says whether the engine runs slower than the CPU allows.
public enum BLASKernelTier: Int, Comparable, Sendable, CaseIterable {
    case generic, ssse3, sse42, avx, avx2, avx512

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The features a kernel of this tier executes.
    public var requires: CPUFeatures {
        switch self {
        case .generic: []
        case .ssse3: [.sse3, .ssse3]
        case .sse42: [.sse3, .ssse3, .sse41, .sse42]
        case .avx: [.sse3, .ssse3, .sse41, .sse42, .avx]
        case .avx2: [.sse3, .ssse3, .sse41, .sse42, .avx, .avx2, .fma]
        case .avx512:
            [.sse3, .ssse3, .sse41, .sse42, .avx, .avx2, .fma, .avx512f, .avx512dq, .avx512cd, .avx512bw, .avx512vl]
        }
    }

    /// The `OPENBLAS_CORETYPE` value that selects this tier; the oldest name of each, which every
    /// OpenBLAS with runtime dispatch since 0.3.x has (Intel names work on AMD CPUs too).
    public var coreType: String {
        switch self {
        case .generic: "Prescott"
        case .ssse3: "Core2"
        case .sse42: "Nehalem"
        case .avx: "Sandybridge"
        case .avx2: "Haswell"
        case .avx512: "SkylakeX"
        }
    }

    /// The best tier whose every instruction the CPU (and OS) supports.
    public static func best(for features: CPUFeatures) -> BLASKernelTier {
        allCases.last { features.isSuperset(of: $0.requires) } ?? .generic
    }

    /// The tier of an OpenBLAS core name (`openblas_get_corename()` or an `OPENBLAS_CORETYPE`
    /// value), case-insensitive; nil for a name this table does not know.
    public init?(coreName: String) {
        let tiers: [String: BLASKernelTier] = [
            "prescott": .generic, "katmai": .generic, "coppermine": .generic, "northwood": .generic,
            "banias": .generic, "athlon": .generic, "opteron": .generic, "opteron_sse3": .generic,
            "core2": .ssse3, "penryn": .ssse3, "dunnington": .ssse3, "atom": .ssse3, "nano": .ssse3, "bobcat": .ssse3,
            "nehalem": .sse42, "barcelona": .sse42,
            "sandybridge": .avx, "bulldozer": .avx, "piledriver": .avx, "steamroller": .avx, "excavator": .avx,
            "haswell": .avx2, "zen": .avx2,
            "skylakex": .avx512, "cooperlake": .avx512, "sapphirerapids": .avx512,
        ]
        guard let tier = tiers[coreName.lowercased()] else { return nil }
        self = tier
    }
}
