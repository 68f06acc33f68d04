internal import CSodium

/// Initialises libsodium exactly once before any other call.
///
/// `sodium_init` is thread-safe and idempotent; the `static let` makes every entry point pay
/// for it at most once.
enum SodiumLibrary {
    private static let initialized: Bool = sodium_init() >= 0

    static func ensureInitialized() {
        precondition(initialized, "libsodium could not be initialised")
    }
}
