import Synchronization

/// A value known only after something that must read it was built: the gateway's metrics port,
/// bound after the gateway service (whose snapshot the metrics read) and announced by it.
final class LateValue<Value: Sendable>: Sendable {
    private let value: Mutex<Value>

    init(_ initial: Value) { value = Mutex(initial) }

    var current: Value {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
