import Foundation
import Testing

@testable import Inference

/// Feature bits in, recommended kernel and verdict out: the pure half of "never silently slow".
@Suite("Kernel choice")
struct KernelChoiceTests {
    /// OSXSAVE with SSE/AVX state saved, and with opmask/ZMM state saved too.
    static let ymmXCR0: UInt64 = 0b111
    static let zmmXCR0: UInt64 = 0b1110_0111
    /// Leaf 1 ECX: SSE3, SSSE3, FMA, SSE4.1, SSE4.2, OSXSAVE, AVX.
    static let leaf1: UInt32 = 1 << 0 | 1 << 9 | 1 << 12 | 1 << 19 | 1 << 20 | 1 << 27 | 1 << 28
    /// Leaf 7 EBX: AVX2, AVX-512 F, DQ, CD, BW, VL.
    static let leaf7AVX512: UInt32 = 1 << 5 | 1 << 16 | 1 << 17 | 1 << 28 | 1 << 30 | 1 << 31

    static let avx512CPU = CPUFeatures(
        decoding: CPUIDRegisters(leaf1ECX: leaf1, leaf7EBX: leaf7AVX512, leaf7ECX: 1 << 11, xcr0: zmmXCR0))
    static let avx2CPU = CPUFeatures(decoding: CPUIDRegisters(leaf1ECX: leaf1, leaf7EBX: 1 << 5, xcr0: ymmXCR0))

    @Test func decodesAVX512AndVNNIWhenTheOSSavesZMMState() {
        let features = Self.avx512CPU
        #expect(features.isSuperset(of: [.avx2, .fma, .avx512f, .avx512bw, .avx512vl, .avx512vnni]))
        #expect(!features.contains(.avx512bf16))
        #expect(BLASKernelTier.best(for: features) == .avx512)
        #expect(features.names.hasSuffix("avx512f,avx512dq,avx512cd,avx512bw,avx512vl,avx512_vnni"))
    }

    @Test func dropsAVX512WhenTheOSDoesNotSaveZMMState() {
        let features = CPUFeatures(
            decoding: CPUIDRegisters(leaf1ECX: Self.leaf1, leaf7EBX: Self.leaf7AVX512, xcr0: Self.ymmXCR0))
        #expect(features.contains(.avx2))
        #expect(!features.contains(.avx512f))
        #expect(BLASKernelTier.best(for: features) == .avx2)
    }

    @Test func dropsAVXWithoutOSXSAVE() {
        let features = CPUFeatures(
            decoding: CPUIDRegisters(leaf1ECX: Self.leaf1 & ~(1 << 27), leaf7EBX: Self.leaf7AVX512, xcr0: Self.zmmXCR0))
        #expect(!features.contains(.avx) && !features.contains(.avx2) && !features.contains(.avx512f))
        #expect(BLASKernelTier.best(for: features) == .sse42)
    }

    @Test func decodesBF16AndAMXOnlyWithTileState() {
        let registers = CPUIDRegisters(
            leaf1ECX: Self.leaf1, leaf7EBX: Self.leaf7AVX512, leaf7EDX: 1 << 22 | 1 << 24 | 1 << 25,
            leaf7Sub1EAX: 1 << 5,
            xcr0: Self.zmmXCR0 | 0b11 << 17)
        let withTiles = CPUFeatures(decoding: registers)
        #expect(withTiles.isSuperset(of: [.avx512bf16, .amxTile, .amxBF16, .amxInt8]))
        var noTiles = registers
        noTiles.xcr0 = Self.zmmXCR0
        #expect(CPUFeatures(decoding: noTiles).isDisjoint(with: [.amxTile, .amxBF16, .amxInt8]))
    }

    @Test func mapsOpenBLASCoreNamesToTiers() {
        #expect(BLASKernelTier(coreName: "Prescott") == .generic)
        #expect(BLASKernelTier(coreName: "ZEN") == .avx2)
        #expect(BLASKernelTier(coreName: "Cooperlake") == .avx512)
        #expect(BLASKernelTier(coreName: "SapphireRapids") == .avx512)
        #expect(BLASKernelTier(coreName: "NoSuchCore") == nil)
        #expect(BLASKernelTier.avx512.coreType == "SkylakeX")
    }

    @Test func genericKernelChosenByOpenBLASIsSlowerWithTheFix() {
        let report = KernelReport.assess(features: Self.avx512CPU, kernel: "Prescott", pin: nil)
        #expect(report.status == .slower)
        #expect(report.recommended == "SkylakeX")
        #expect(report.warning?.contains("Fix: start the process with OPENBLAS_CORETYPE=SkylakeX") == true)
    }

    @Test func operatorPinIsReportedNotOverridden() {
        let report = KernelReport.assess(features: Self.avx512CPU, kernel: "Haswell", pin: "Haswell")
        #expect(report.status == .pinned)
        #expect(report.kernel == "Haswell")
        #expect(report.warning?.contains("OPENBLAS_CORETYPE=Haswell is set (respected)") == true)
        #expect(report.summary.contains("pinned by OPENBLAS_CORETYPE=Haswell; best for this CPU: SkylakeX"))
    }

    @Test func bestTierNeedsNoWarningWhateverItsName() {
        let chosen = KernelReport.assess(features: Self.avx512CPU, kernel: "Cooperlake", pin: nil)
        #expect(chosen.status == .best && chosen.warning == nil)
        let zen = KernelReport.assess(features: Self.avx2CPU, kernel: "Zen", pin: nil)
        #expect(zen.status == .best && zen.recommended == "Haswell")
        let pinnedBest = KernelReport.assess(features: Self.avx2CPU, kernel: "Haswell", pin: "Haswell")
        #expect(pinnedBest.status == .pinned && pinnedBest.warning == nil)
    }

    @Test func kernelTheCPUCannotRunIsFlagged() {
        let report = KernelReport.assess(features: Self.avx2CPU, kernel: "SkylakeX", pin: "SkylakeX")
        #expect(report.status == .unsupported)
        #expect(report.warning?.contains("avx512f") == true)
        #expect(report.warning?.contains("OPENBLAS_CORETYPE=Haswell") == true)
    }

    @Test func unknownKernelNameIsFlagged() {
        let report = KernelReport.assess(features: Self.avx2CPU, kernel: "Loongson3R4", pin: nil)
        #expect(report.status == .unknown && report.warning != nil)
    }

    @Test func cpuidReadingAgreesWithTheKernelsFlags() throws {
        // The real CPUID path against Linux's own reading of the same CPU (/proc/cpuinfo, where
        // SSE3 is called "pni"); both leave out what the OS does not enable.
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return }
        let flags = Set(line.split(separator: ":").last!.split(separator: " ").map(String.init))
        let decoded = CPUFeatures(decoding: .current())
        for (feature, name) in CPUFeatures.named {
            let linuxName = name == "sse3" ? "pni" : name
            #expect(decoded.contains(feature) == flags.contains(linuxName), "\(name)")
        }
        #expect(EngineKernel.current.cpuFeatures == decoded.names)
    }
}
