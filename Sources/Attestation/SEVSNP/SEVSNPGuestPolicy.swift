/// The guest policy the hypervisor launched an SEV-SNP guest with (report offset 0x08).
public struct SEVSNPGuestPolicy: Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }

    public var abiMinor: UInt8 { UInt8(truncatingIfNeeded: rawValue) }
    public var abiMajor: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) }
    /// Bit 16: simultaneous multithreading may be enabled.
    public var smtAllowed: Bool { bit(16) }
    /// Bit 18: a migration agent may be associated with the guest.
    public var migrationAgentAllowed: Bool { bit(18) }
    /// Bit 19: the host may debug the guest, i.e. read and write its memory. Never acceptable
    /// where secrets are released, unless a policy says so for testing.
    public var debugAllowed: Bool { bit(19) }
    /// Bit 20: the guest may run on only one socket.
    public var singleSocketOnly: Bool { bit(20) }

    public var description: String { "0x" + String(rawValue, radix: 16) }

    private func bit(_ n: UInt64) -> Bool { rawValue & (1 << n) != 0 }
}
