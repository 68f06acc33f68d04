import Foundation
public import Sodium

/// The operator's root key: 32 random bytes in a file only its owner may read (mode 0600).
/// Every secret the broker stores is encrypted under it.
public enum RootKey {
    public static let byteCount = 32

    /// Creates a new root key file with mode 0600; refuses to overwrite an existing file.
    public static func create(at path: String) throws(KeyBrokerError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .rootKeyExists(path: path) }
            throw .rootKeyUnreadable(path: path, reason: "cannot create: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        // The umask may have narrowed the mode; make it exactly 0600.
        guard fchmod(fd, 0o600) == 0 else {
            throw .rootKeyUnreadable(path: path, reason: "cannot set mode 0600: \(String(cString: strerror(errno)))")
        }
        let key = SecureBytes.random(count: byteCount)
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == byteCount, fsync(fd) == 0 else {
            throw .rootKeyUnreadable(path: path, reason: "could not write 32 bytes")
        }
    }

    /// Reads the root key straight into secure memory, after checking through the same open
    /// file that it is a regular file with mode 0600 and exactly 32 bytes.
    public static func load(from path: String) throws(KeyBrokerError) -> SecureBytes {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw .rootKeyUnreadable(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .rootKeyUnreadable(path: path, reason: "cannot stat") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .rootKeyUnreadable(path: path, reason: "not a regular file")
        }
        let mode = UInt16(info.st_mode & 0o7777)
        guard mode == 0o600 else { throw .rootKeyPermissions(path: path, mode: mode) }
        guard info.st_size == byteCount else {
            throw .rootKeyUnreadable(path: path, reason: "must hold exactly \(byteCount) bytes, holds \(info.st_size)")
        }
        let key = SecureBytes(count: byteCount)
        let count = key.withUnsafeMutableBytes { read(fd, $0.baseAddress, byteCount) }
        guard count == byteCount else { throw .rootKeyUnreadable(path: path, reason: "short read") }
        return key
    }
}
