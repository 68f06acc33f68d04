internal import CSodium

/// BLAKE2b (`crypto_generichash`), optionally keyed.
public enum BLAKE2b {
    public static func hash(_ data: [UInt8], outputLength: Int = 32, key: [UInt8] = []) -> [UInt8] {
        data.withUnsafeBytes { hash(raw: $0, outputLength: outputLength, key: key) }
    }

    /// Hashes bytes in place, e.g. in secret memory (`SecureBytes.withUnsafeBytes`), without copying them.
    public static func hash(raw data: UnsafeRawBufferPointer, outputLength: Int = 32, key: [UInt8] = []) -> [UInt8] {
        precondition((16...64).contains(outputLength), "BLAKE2b output length must be 16...64")
        precondition(key.count <= 64, "BLAKE2b key must be at most 64 bytes")
        SodiumLibrary.ensureInitialized()
        return [UInt8](unsafeUninitializedCapacity: outputLength) { buffer, initialized in
            let status = key.withUnsafeBufferPointer { k in
                crypto_generichash(
                    buffer.baseAddress!, outputLength, data.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    UInt64(data.count), k.count == 0 ? nil : k.baseAddress, k.count)
            }
            precondition(status == 0, "crypto_generichash failed")
            initialized = outputLength
        }
    }
}
