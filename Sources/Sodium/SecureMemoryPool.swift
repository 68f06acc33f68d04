internal import CSodium
import Synchronization

/// Reuses `sodium_malloc` blocks for `SecureBytes`, so that opening and sealing a payload does not
/// cost a dozen system calls.
///
/// Each `sodium_malloc` maps fresh pages with guard pages around them and locks them
/// (`mmap`, three `mprotect`, `mlock`, then page faults on first touch); each `sodium_free`
/// unlocks and unmaps them. A stage allocates several secret buffers per job, and profiling a
/// loaded pipeline put these calls at about a tenth of the encoder shards' CPU time.
///
/// A block keeps every property `sodium_malloc` gave it while it waits here: it stays locked,
/// its guard pages stay in place, and it is wiped before it is put back, so a reused block is all
/// zeros like a fresh one. Blocks come in power-of-two size classes, and a buffer is placed at the
/// *end* of its block, so that reading or writing past it still hits the guard page as with a
/// block of its own size (the slack before it is zeros that no one addresses).
///
/// What is kept is bounded: at most `retainedBytesLimit` in all, and blocks larger than
/// `largestPooledClass` are never kept, so the pool never grows past a fixed size whatever the
/// traffic. Past the bound, blocks go back to `sodium_free` as before.
final class SecureMemoryPool: Sendable {
    /// The smallest class: smaller requests share it (keys are 32 or 64 bytes).
    static let smallestClass = 256
    /// Larger buffers (a big batch of hidden states) are mapped and unmapped as before.
    static let largestPooledClass = 8 << 20
    /// All the idle blocks of the shared pool together never exceed this. It is also well past
    /// what a stage keeps in flight, and locked memory is limited (`RLIMIT_MEMLOCK`): past that
    /// limit `sodium_malloc` still works but can no longer lock.
    static let sharedRetainedBytesLimit = 32 << 20

    static let shared = SecureMemoryPool(retainedBytesLimit: sharedRetainedBytesLimit)

    let retainedBytesLimit: Int

    init(retainedBytesLimit: Int) {
        self.retainedBytesLimit = retainedBytesLimit
    }

    // Idle blocks are kept as addresses (plain integers), which the mutex can hold across
    // threads; a block is owned by the pool while it is idle.
    private struct State {
        var idle: [Int: [UInt]] = [:]
        var retainedBytes = 0
    }

    private let state = Mutex(State())

    /// The class a request of `count` bytes is served from, or nil if it is not pooled.
    static func sizeClass(for count: Int) -> Int? {
        guard count > 0, count <= largestPooledClass else { return nil }
        var size = smallestClass
        while size < count { size <<= 1 }
        return size
    }

    /// Zeroed secret memory of at least `count` bytes; `count` bytes at the returned address are
    /// the caller's, and end where the block does.
    func allocate(count: Int) -> UnsafeMutableRawPointer {
        guard let sizeClass = Self.sizeClass(for: count) else {
            return Self.freshBlock(count: count)
        }
        let reused = state.withLock { state -> UInt? in
            guard let address = state.idle[sizeClass]?.popLast() else { return nil }
            state.retainedBytes -= sizeClass
            return address
        }
        let block = reused.flatMap { UnsafeMutableRawPointer(bitPattern: $0) } ?? Self.freshBlock(count: sizeClass)
        return block + (sizeClass - count)
    }

    /// Wipes the `count` bytes at `pointer` (from `allocate(count:)`) and keeps or frees the block.
    func release(_ pointer: UnsafeMutableRawPointer, count: Int) {
        guard let sizeClass = Self.sizeClass(for: count) else {
            sodium_free(pointer)  // Wipes before freeing.
            return
        }
        sodium_memzero(pointer, count)
        let block = pointer - (sizeClass - count)
        let address = UInt(bitPattern: block)
        let kept = state.withLock { state -> Bool in
            guard state.retainedBytes + sizeClass <= retainedBytesLimit else { return false }
            state.idle[sizeClass, default: []].append(address)
            state.retainedBytes += sizeClass
            return true
        }
        if !kept { sodium_free(block) }
    }

    /// Bytes held in idle blocks now (for tests and metrics).
    var retainedBytes: Int { state.withLock { $0.retainedBytes } }

    private static func freshBlock(count: Int) -> UnsafeMutableRawPointer {
        // sodium_malloc reads the page size sodium_init sets, and aborts without it.
        SodiumLibrary.ensureInitialized()
        guard let memory = sodium_malloc(count) else {
            preconditionFailure("sodium_malloc(\(count)) failed: out of memory")
        }
        sodium_memzero(memory, count)
        return memory
    }
}
