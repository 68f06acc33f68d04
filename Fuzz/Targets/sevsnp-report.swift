import Attestation

/// An SEV-SNP attestation report as a guest hands it over.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    _ = try? SEVSNPReport(bytes: bytes)
    return 0
}
