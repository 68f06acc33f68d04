internal import CSodium

/// SHA-256, one-shot or incremental.
public enum SHA256 {
    public static let byteCount = 32

    public static func hash(_ data: [UInt8]) -> [UInt8] {
        var hasher = Hasher()
        hasher.update(data)
        return hasher.finalize()
    }

    /// Incremental SHA-256; `finalize` consumes it.
    public struct Hasher: Sendable {
        private var state = crypto_hash_sha256_state()

        public init() {
            SodiumLibrary.ensureInitialized()
            crypto_hash_sha256_init(&state)
        }

        public mutating func update(_ data: [UInt8]) {
            data.withUnsafeBytes { update(raw: $0) }
        }

        public mutating func update(raw data: UnsafeRawBufferPointer) {
            guard let base = data.baseAddress else { return }
            crypto_hash_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(data.count))
        }

        public consuming func finalize() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: SHA256.byteCount) { buffer, initialized in
                crypto_hash_sha256_final(&state, buffer.baseAddress!)
                initialized = SHA256.byteCount
            }
        }
    }
}
