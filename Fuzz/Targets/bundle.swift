import Wire

/// A bundle's clear job table, which the gateway reads from every stage.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let table = try? BundleTable(decoding: bytes) {
        precondition((1...BundleTable.maxJobs).contains(table.entries.count), "table size out of range")
        precondition(Set(table.entries.map(\.jobID)).count == table.entries.count, "a job listed twice")
        precondition(table.encoded() == bytes, "bundle table did not round-trip")
    }
    return 0
}
