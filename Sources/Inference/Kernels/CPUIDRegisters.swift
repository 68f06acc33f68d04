internal import COpenBLAS

/// The raw CPUID words and XCR0 that `CPUFeatures` decodes; read from the CPU by `current()`,
/// or written by hand in tests.
public struct CPUIDRegisters: Sendable, Equatable {
    /// CPUID leaf 1, ECX (SSE3 … AVX, FMA, OSXSAVE).
    public var leaf1ECX: UInt32
    /// CPUID leaf 7 subleaf 0, EBX (AVX2, AVX-512 F/DQ/CD/BW/VL).
    public var leaf7EBX: UInt32
    /// CPUID leaf 7 subleaf 0, ECX (AVX-512 VNNI).
    public var leaf7ECX: UInt32
    /// CPUID leaf 7 subleaf 0, EDX (AMX tile, BF16, INT8).
    public var leaf7EDX: UInt32
    /// CPUID leaf 7 subleaf 1, EAX (AVX-512 BF16).
    public var leaf7Sub1EAX: UInt32
    /// XCR0: which register states the OS saves.
    public var xcr0: UInt64

    public init(
        leaf1ECX: UInt32 = 0, leaf7EBX: UInt32 = 0, leaf7ECX: UInt32 = 0, leaf7EDX: UInt32 = 0,
        leaf7Sub1EAX: UInt32 = 0, xcr0: UInt64 = 0
    ) {
        self.leaf1ECX = leaf1ECX
        self.leaf7EBX = leaf7EBX
        self.leaf7ECX = leaf7ECX
        self.leaf7EDX = leaf7EDX
        self.leaf7Sub1EAX = leaf7Sub1EAX
        self.xcr0 = xcr0
    }

    /// This CPU's registers (all zero off x86, where no OpenBLAS x86 kernel applies).
    public static func current() -> CPUIDRegisters {
        func cpuid(_ leaf: UInt32, _ subleaf: UInt32) -> [UInt32]? {
            var words = [UInt32](repeating: 0, count: 4)
            let supported = words.withUnsafeMutableBufferPointer { sealpipe_cpuid(leaf, subleaf, $0.baseAddress) }
            return supported != 0 ? words : nil
        }
        var registers = CPUIDRegisters()
        guard let leaf0 = cpuid(0, 0) else { return registers }
        let maxLeaf = leaf0[0]
        if let leaf1 = cpuid(1, 0) { registers.leaf1ECX = leaf1[2] }
        if maxLeaf >= 7, let leaf7 = cpuid(7, 0) {
            registers.leaf7EBX = leaf7[1]
            registers.leaf7ECX = leaf7[2]
            registers.leaf7EDX = leaf7[3]
            if leaf7[0] >= 1, let sub1 = cpuid(7, 1) { registers.leaf7Sub1EAX = sub1[0] }
        }
        if registers.leaf1ECX & (1 << 27) != 0 { registers.xcr0 = sealpipe_xgetbv0() }
        return registers
    }
}
