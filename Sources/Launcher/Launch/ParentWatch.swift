import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A service started by `sealpipe launch` stops with it: if the launcher dies (even by
/// SIGKILL), the service receives SIGTERM and drains, instead of living on as an orphan that
/// holds its ports and keys.
public enum ParentWatch {
    /// Starts watching when this process was started by the launcher (`SEALPIPE_SERVICE` set).
    public static func startIfSupervised() {
        guard ProcessInfo.processInfo.environment["SEALPIPE_SERVICE"] != nil else { return }
        let parent = getppid()
        let thread = Thread {
            while getppid() == parent { usleep(250_000) }
            kill(getpid(), SIGTERM)
        }
        thread.name = "parent-watch"
        thread.start()
    }
}
