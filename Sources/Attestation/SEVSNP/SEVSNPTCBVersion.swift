/// An SEV-SNP TCB version: a u64 whose bytes hold the security patch levels of the firmware
/// components. Which byte is which depends on the processor generation.
public struct SEVSNPTCBVersion: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The patch levels of one TCB, named.
    public struct Components: Sendable, Hashable, Codable {
        /// Turin only: the firmware management controller's level.
        public var fmc: UInt8?
        public var bootloader: UInt8
        public var tee: UInt8
        public var snp: UInt8
        public var microcode: UInt8
    }

    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    /// The components in `product`'s layout: Milan and Genoa use bootloader byte 0, TEE byte 1,
    /// SNP byte 6, microcode byte 7; Turin uses FMC 0, bootloader 1, TEE 2, SNP 3, microcode 7.
    public func components(for product: SEVSNPProduct) -> Components {
        let byte = { (index: Int) in UInt8(truncatingIfNeeded: rawValue >> (8 * UInt64(index))) }
        switch product {
        case .milan, .genoa:
            return Components(fmc: nil, bootloader: byte(0), tee: byte(1), snp: byte(6), microcode: byte(7))
        case .turin:
            return Components(fmc: byte(0), bootloader: byte(1), tee: byte(2), snp: byte(3), microcode: byte(7))
        }
    }

    /// Whether every component is at least `minimum`'s, compared one by one (a u64 comparison
    /// would let a newer microcode hide an older bootloader).
    public func meets(_ minimum: SEVSNPTCBVersion, for product: SEVSNPProduct) -> Bool {
        let have = components(for: product)
        let need = minimum.components(for: product)
        return have.bootloader >= need.bootloader && have.tee >= need.tee && have.snp >= need.snp
            && have.microcode >= need.microcode && (have.fmc ?? 0) >= (need.fmc ?? 0)
    }

    public var description: String { "0x" + String(rawValue, radix: 16) }

    /// "bl 2, tee 0, snp 5, ucode 68" in `product`'s layout.
    public func describe(for product: SEVSNPProduct) -> String {
        let c = components(for: product)
        let fmc = c.fmc.map { "fmc \($0), " } ?? ""
        return "\(fmc)bl \(c.bootloader), tee \(c.tee), snp \(c.snp), ucode \(c.microcode)"
    }
}

/// AMD EPYC generations with SEV-SNP, named as in their root certificates (ARK-Milan, …).
public enum SEVSNPProduct: String, Sendable, Hashable, Codable, CaseIterable {
    case milan = "Milan"
    case genoa = "Genoa"
    case turin = "Turin"
}
