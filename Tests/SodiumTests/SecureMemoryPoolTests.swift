import Testing

@testable import Sodium

@Suite("Secure memory pool")
struct SecureMemoryPoolTests {
    @Test func aReleasedBlockComesBackWipedAndIsReusedForTheSameClass() {
        let pool = SecureMemoryPool(retainedBytesLimit: 1 << 20)
        let first = pool.allocate(count: 1000)
        first.initializeMemory(as: UInt8.self, repeating: 0xAA, count: 1000)
        pool.release(first, count: 1000)
        #expect(pool.retainedBytes == 1024)

        // 700 bytes share the 1 KiB class: the same block, the buffer moved to end where it ends.
        let second = pool.allocate(count: 700)
        #expect(second == first + 300)
        #expect(pool.retainedBytes == 0)
        let block = UnsafeRawBufferPointer(start: second - 324, count: 1024)
        #expect(block.allSatisfy { $0 == 0 }, "a reused block must be all zeros, as a fresh one is")
        pool.release(second, count: 700)
    }

    @Test func idleBlocksNeverExceedTheBound() {
        let pool = SecureMemoryPool(retainedBytesLimit: 4096)
        let blocks = (0..<3).map { _ in pool.allocate(count: 2048) }
        for block in blocks { pool.release(block, count: 2048) }
        #expect(pool.retainedBytes == 4096, "two blocks kept, the third freed")

        let large = SecureMemoryPool.largestPooledClass + 1
        let big = pool.allocate(count: large)
        pool.release(big, count: large)
        #expect(pool.retainedBytes == 4096, "blocks over the largest class are never kept")
    }

    @Test func sizeClassesArePowersOfTwoFromTheSmallest() {
        #expect(SecureMemoryPool.sizeClass(for: 1) == SecureMemoryPool.smallestClass)
        #expect(SecureMemoryPool.sizeClass(for: 257) == 512)
        #expect(SecureMemoryPool.sizeClass(for: 4096) == 4096)
        #expect(SecureMemoryPool.sizeClass(for: SecureMemoryPool.largestPooledClass + 1) == nil)
        #expect(SecureMemoryPool.sizeClass(for: 0) == nil)
    }

    @Test func secureBytesStillStartZeroedAfterReuse() {
        // Through the shared pool, as every payload goes: a buffer written and released, then a
        // new one of the same size, must read as zeros.
        for _ in 0..<50 {
            let written = SecureBytes(count: 1500)
            written.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0x5C) }
        }
        let fresh = SecureBytes(count: 1500)
        #expect(fresh.copyBytes().allSatisfy { $0 == 0 })
    }
}
