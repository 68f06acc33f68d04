import Wire

/// The sealed plaintexts: one job's envelope and a bundle's envelopes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let envelope = try? JobEnvelope(decoding: bytes) {
        let encoded = envelope.encoded()
        if bytes.first == JobEnvelope.versionWithoutOptions {
            // Version 2 has no options byte; it decodes as no options, and the same envelope in
            // the current version is it with a zero options byte after the reply key.
            let optionsAt = 1 + JobID.byteCount + 8 + JobEnvelope.replyKeyByteCount
            precondition(envelope.options.isEmpty, "a version-2 envelope decoded with options")
            precondition(
                encoded == [JobEnvelope.version] + bytes[1..<optionsAt] + [0] + bytes[optionsAt...],
                "version-2 job envelope did not carry over to the current version")
        } else {
            precondition(encoded == bytes, "job envelope did not round-trip")
        }
    }
    if let bundle = try? BundleEnvelope(decoding: bytes) {
        precondition(bundle.jobs.count <= BundleTable.maxJobs, "bundle envelope over the job limit")
        precondition(bundle.encoded() == bytes, "bundle envelope did not round-trip")
    }
    return 0
}
