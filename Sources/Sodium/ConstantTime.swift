internal import CSodium

/// Comparisons whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Equal length and equal bytes; the lengths themselves are not treated as secret.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        SodiumLibrary.ensureInitialized()
        return sodium_memcmp(a, b, a.count) == 0
    }
}
