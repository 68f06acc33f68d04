internal import CSodium

/// SHA-512, one-shot or incremental.
public enum SHA512 {
    public static let byteCount = 64

    public static func hash(_ data: [UInt8]) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    /// Incremental SHA-512; `finalize` consumes it.
    public struct Hasher: Sendable {
        private var state = crypto_hash_sha512_state()

        public init() {
            SodiumLibrary.ensureInitialized()
            crypto_hash_sha512_init(&state)
        }

        public mutating func update(_ data: [UInt8]) {
            data.withUnsafeBytes { update(raw: $0) }
        }

        public mutating func update(raw data: UnsafeRawBufferPointer) {
            guard let base = data.baseAddress else { return }
            crypto_hash_sha512_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        }

        public consuming func finalize() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: SHA512.byteCount) { buffer, initialized in
                crypto_hash_sha512_final(&state, buffer.baseAddress!)
                initialized = SHA512.byteCount
            }
        }
    }
}
