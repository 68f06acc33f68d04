import Wire

/// A job's receipt chain as a client opens it from its result (and a stage from a bundle), and a
/// single receipt: decoders bound every length before reading, and what decodes encodes back to
/// the very same bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let receipts = try? ReceiptChain.decode(bytes) {
        precondition(receipts.count <= ReceiptChain.maximumCount, "chain longer than its bound")
        precondition(ReceiptChain.encode(receipts) == bytes, "receipt chain did not round-trip")
    }
    if let receipt = try? StageReceipt(decoding: bytes) {
        precondition(receipt.encoded() == bytes, "receipt did not round-trip")
    }
    return 0
}
