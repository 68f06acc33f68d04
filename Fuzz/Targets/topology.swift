import Topology

/// A topology file: YAML, decoded and validated with exact paths.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let text = String(decoding: FuzzInput.bytes(data, size), as: UTF8.self)
    _ = try? Topology(yaml: text)
    return 0
}
