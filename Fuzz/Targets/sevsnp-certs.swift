import Attestation

/// The extended-report certificate table (GUID, offset, length entries) and its certificates.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let entries = try? SEVSNPCertificateTable.parse(bytes) {
        for (_, der) in entries { precondition(der.count <= bytes.count, "an entry larger than the table") }
    }
    _ = try? SEVSNPCertificateTable.evidenceCertificates(from: bytes)
    return 0
}
