import Wire

/// The sealed plaintexts: one job's envelope and a bundle's envelopes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let envelope = try? JobEnvelope(decoding: bytes) {
        precondition(envelope.encoded() == bytes, "job envelope did not round-trip")
    }
    if let bundle = try? BundleEnvelope(decoding: bytes) {
        precondition(bundle.jobs.count <= BundleTable.maxJobs, "bundle envelope over the job limit")
        precondition(bundle.encoded() == bytes, "bundle envelope did not round-trip")
    }
    return 0
}
