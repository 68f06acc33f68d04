import Foundation

/// A directory for the broker's state or root key: made owner-only (0700) when created here.
public enum PrivateDirectory {
    /// Creates `path` and any missing parents with mode 0700 (whatever the umask). A directory
    /// that already exists is left as it is, since it may be shared; if group or others may
    /// enter it, the returned warning says so and how to fix it.
    public static func prepare(_ path: String) throws(KeyBrokerError) -> String? {
        var missing: [String] = []
        var current = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: current.path) {
            missing.append(current.path)
            let parent = current.deletingLastPathComponent()
            if parent.path == current.path { break }
            current = parent
        }
        for directory in missing.reversed() {
            guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
                throw .storeUnwritable(path: directory, reason: "cannot create: \(String(cString: strerror(errno)))")
            }
            guard chmod(directory, 0o700) == 0 else {
                throw .storeUnwritable(
                    path: directory, reason: "cannot set mode 0700: \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw .storeUnwritable(path: path, reason: "not a directory")
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 != 0 else { return nil }
        return
            "\(path) has mode 0\(String(mode, radix: 8)); the key broker's state should be owner-only: chmod 700 \(path)"
    }
}
