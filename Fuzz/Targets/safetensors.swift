import Inference

/// A safetensors container: the header's JSON and every tensor it names.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    guard let container = try? SafeTensors(bytes: bytes) else { return 0 }
    for name in container.names {
        _ = try? container.data(of: name)
        _ = try? container.floatTensor(named: name)
    }
    return 0
}
