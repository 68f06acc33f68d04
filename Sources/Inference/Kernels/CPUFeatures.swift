/// The instruction-set extensions this CPU offers *and* the OS lets a process use (the register
/// state is saved on context switch), decoded from CPUID and XCR0 — never from the model name,
/// which hypervisors and confidential VMs mask.
public struct CPUFeatures: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sse3 = CPUFeatures(rawValue: 1 << 0)
    public static let ssse3 = CPUFeatures(rawValue: 1 << 1)
    public static let sse41 = CPUFeatures(rawValue: 1 << 2)
    public static let sse42 = CPUFeatures(rawValue: 1 << 3)
    public static let avx = CPUFeatures(rawValue: 1 << 4)
    public static let avx2 = CPUFeatures(rawValue: 1 << 5)
    public static let fma = CPUFeatures(rawValue: 1 << 6)
    public static let avx512f = CPUFeatures(rawValue: 1 << 7)
    public static let avx512dq = CPUFeatures(rawValue: 1 << 8)
    public static let avx512cd = CPUFeatures(rawValue: 1 << 9)
    public static let avx512bw = CPUFeatures(rawValue: 1 << 10)
    public static let avx512vl = CPUFeatures(rawValue: 1 << 11)
    public static let avx512vnni = CPUFeatures(rawValue: 1 << 12)
    public static let avx512bf16 = CPUFeatures(rawValue: 1 << 13)
    public static let amxTile = CPUFeatures(rawValue: 1 << 14)
    public static let amxBF16 = CPUFeatures(rawValue: 1 << 15)
    public static let amxInt8 = CPUFeatures(rawValue: 1 << 16)

    /// Every feature with the name `/proc/cpuinfo` gives it, in a fixed order (for labels and logs).
    public static let named: [(feature: CPUFeatures, name: String)] = [
        (.sse3, "sse3"), (.ssse3, "ssse3"), (.sse41, "sse4_1"), (.sse42, "sse4_2"), (.avx, "avx"), (.avx2, "avx2"),
        (.fma, "fma"), (.avx512f, "avx512f"), (.avx512dq, "avx512dq"), (.avx512cd, "avx512cd"),
        (.avx512bw, "avx512bw"), (.avx512vl, "avx512vl"), (.avx512vnni, "avx512_vnni"),
        (.avx512bf16, "avx512_bf16"), (.amxTile, "amx_tile"), (.amxBF16, "amx_bf16"), (.amxInt8, "amx_int8"),
    ]

    /// The names of the features present, comma-separated (e.g. `sse3,...,avx2,fma,avx512f`).
    public var names: String {
        Self.named.filter { contains($0.feature) }.map(\.name).joined(separator: ",")
    }

    /// Decodes the raw registers. A feature whose register state the OS does not save (XCR0) is
    /// left out: its instructions would fault, so no kernel may count on it.
    public init(decoding registers: CPUIDRegisters) {
        func bit(_ word: UInt32, _ index: UInt32) -> Bool { word & (1 << index) != 0 }
        var features: CPUFeatures = []
        let ecx1 = registers.leaf1ECX
        if bit(ecx1, 0) { features.insert(.sse3) }
        if bit(ecx1, 9) { features.insert(.ssse3) }
        if bit(ecx1, 19) { features.insert(.sse41) }
        if bit(ecx1, 20) { features.insert(.sse42) }
        // XCR0 is meaningful only when the OS has enabled XSAVE (OSXSAVE, CPUID.1:ECX bit 27).
        let xcr0 = bit(ecx1, 27) ? registers.xcr0 : 0
        let ymmSaved = xcr0 & 0b110 == 0b110  // SSE and AVX state
        let zmmSaved = ymmSaved && xcr0 & 0b1110_0000 == 0b1110_0000  // opmask, ZMM0-15 upper, ZMM16-31
        let tilesSaved = xcr0 & (0b11 << 17) == (0b11 << 17)  // XTILECFG and XTILEDATA
        if ymmSaved {
            if bit(ecx1, 28) { features.insert(.avx) }
            if bit(ecx1, 12) { features.insert(.fma) }
            if bit(registers.leaf7EBX, 5) { features.insert(.avx2) }
        }
        if zmmSaved {
            let ebx7 = registers.leaf7EBX
            let pairs: [(UInt32, CPUFeatures)] = [
                (16, .avx512f), (17, .avx512dq), (28, .avx512cd), (30, .avx512bw), (31, .avx512vl),
            ]
            for (index, feature) in pairs where bit(ebx7, index) { features.insert(feature) }
            if bit(registers.leaf7ECX, 11) { features.insert(.avx512vnni) }
            if bit(registers.leaf7Sub1EAX, 5) { features.insert(.avx512bf16) }
        }
        if tilesSaved {
            let edx7 = registers.leaf7EDX
            if bit(edx7, 22) { features.insert(.amxBF16) }
            if bit(edx7, 24) { features.insert(.amxTile) }
            if bit(edx7, 25) { features.insert(.amxInt8) }
        }
        self = features
    }
}
