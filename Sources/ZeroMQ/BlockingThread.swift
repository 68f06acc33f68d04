import Foundation

/// Runs blocking work (a ZeroMQ loop, a socket call with a timeout) on a thread of its own and
/// awaits its end, so that blocking calls never sit on the Swift concurrency pool.
///
/// The one such helper: services start their loops with it from their `Service.run()`, the
/// broker client its request round trips.
public enum BlockingThread {
    /// Stack size of the threads it starts: a batch's workload may recurse deeper than the default.
    static let stackSize = 8 << 20

    /// Starts `body` on a new thread named `name` and returns (or throws) what it does.
    public static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            thread.name = name
            thread.stackSize = stackSize
            thread.start()
        }
    }
}
