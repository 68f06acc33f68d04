import Wire

/// What a replica tells the gateway in `ready` and `heartbeat` messages.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = FuzzInput.bytes(data, size)
    if let announcement = try? ReplicaAnnouncement(decoding: bytes) {
        precondition(!announcement.role.isEmpty, "empty role accepted")
        precondition(announcement.encoded() == bytes, "announcement did not round-trip")
    }
    return 0
}
