import Foundation
import Sodium

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Secret files written and read straight between disk and secure memory, never via `Data`.
enum SecretFile {
    /// Creates `url` with mode 0600 (O_EXCL: never replaces an existing file) holding `contents`.
    static func createExclusive(at url: URL, contents: SecureBytes) throws(AttestationError) {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason =
                errno == EEXIST
                ? "already exists; refusing to overwrite a secret key" : String(cString: strerror(errno))
            throw .io(path: url.path, reason: reason)
        }
        defer { close(fd) }
        let written = contents.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += n
            }
            return fsync(fd) == 0
        }
        guard written else {
            let reason = String(cString: strerror(errno))
            unlink(url.path)
            throw .io(path: url.path, reason: "cannot write secret key (\(reason))")
        }
    }

    /// Reads exactly `expectedCount` bytes from a file only its owner may read or write.
    static func read(at url: URL, expectedCount: Int) throws(AttestationError) -> SecureBytes {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: url.path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: url.path, reason: String(cString: strerror(errno))) }
        let mode = Int(info.st_mode) & 0o777
        guard mode & 0o077 == 0 else {
            throw .io(
                path: url.path,
                reason: "has mode \(String(mode, radix: 8)); refusing a secret key readable by others (want 600)")
        }
        guard Int(info.st_size) == expectedCount else {
            throw .malformed(what: url.path, reason: "is \(info.st_size) bytes, expected \(expectedCount)")
        }
        let secret = SecureBytes(count: expectedCount)
        let complete = secret.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = systemRead(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                offset += n
            }
            return true
        }
        guard complete else { throw .io(path: url.path, reason: "short read") }
        return secret
    }
}

/// The POSIX `read`, out of the reach of `SecretFile.read`'s name.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
