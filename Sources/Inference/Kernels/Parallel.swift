import Dispatch

/// Fork-join over a few worker threads for the forward pass.
enum Parallel {
    /// Runs `body(0..<count)` concurrently and returns when all are done; the bodies must touch
    /// disjoint memory. One iteration runs inline.
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        guard count > 1 else {
            if count == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            let shared = Unchecked(escapable)
            DispatchQueue.concurrentPerform(iterations: count) { shared.value($0) }
        }
    }

    /// Carries the non-Sendable body into GCD's worker closure.
    private struct Unchecked<Value>: @unchecked Sendable {  // workers touch disjoint memory; all join before return
        let value: Value
        init(_ value: Value) { self.value = value }
    }
}
