internal import CSodium

/// Secret bytes in memory from `sodium_malloc`: guarded pages, locked, wiped on release.
///
/// Blocks are reused through `SecureMemoryPool`, which keeps those properties and saves the
/// system calls of mapping, locking and unmapping fresh pages for every payload.
///
/// Keys and decrypted plaintext live here, never in `String` or `Data`. The value is never
/// printed: its descriptions show only the length.
public final class SecureBytes: @unchecked Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // @unchecked Sendable: the buffer is written only while the initialiser (or a
    // `withUnsafeMutableBytes` call by the single owner that filled it) runs; afterwards it is
    // only read.
    private let pointer: UnsafeMutableRawPointer?
    /// Number of secret bytes.
    public let count: Int

    /// Zero-filled secret memory of `count` bytes.
    public init(count: Int) {
        precondition(count >= 0, "SecureBytes count must not be negative")
        SodiumLibrary.ensureInitialized()
        self.count = count
        if count == 0 {
            pointer = nil
        } else {
            pointer = SecureMemoryPool.shared.allocate(count: count)
        }
    }

    /// Copies `bytes` into secret memory. The caller remains responsible for wiping its copy.
    public convenience init(copying bytes: some Sequence<UInt8>) {
        let array = Array(bytes)
        self.init(count: array.count)
        withUnsafeMutableBytes { target in
            array.withUnsafeBytes { source in
                if let base = source.baseAddress { target.baseAddress?.copyMemory(from: base, byteCount: source.count) }
            }
        }
    }

    /// Copies `bytes` (e.g. a range of another secret buffer) into secret memory with no copy in
    /// ordinary memory on the way.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count)
        withUnsafeMutableBytes { target in
            if let base = bytes.baseAddress, bytes.count > 0 {
                target.baseAddress!.copyMemory(from: base, byteCount: bytes.count)
            }
        }
    }

    /// `count` random bytes from the operating system's CSPRNG.
    public static func random(count: Int) -> SecureBytes {
        let bytes = SecureBytes(count: count)
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { randombytes_buf(base, buffer.count) }
        }
        return bytes
    }

    deinit {
        if let pointer { SecureMemoryPool.shared.release(pointer, count: count) }  // Wiped there.
    }

    /// Reads the secret bytes; the pointer must not escape the closure.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Fills or edits the secret bytes; for the owner that is building the value.
    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E)
        -> R
    {
        try body(UnsafeMutableRawBufferPointer(start: pointer, count: count))
    }

    /// Compares in constant time (for equal lengths); lengths are not secret.
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        if count == 0 { return true }
        return withUnsafeBytes { a in
            other.withUnsafeBytes { b in sodium_memcmp(a.baseAddress!, b.baseAddress!, count) == 0 }
        }
    }

    /// A plain copy, for handing a secret to the one party that owns it (serialising a key
    /// bundle, returning plaintext to the client that asked). Wipe it when done.
    public func copyBytes() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
    public var debugDescription: String { description }
}
