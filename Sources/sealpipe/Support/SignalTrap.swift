import Dispatch
import Foundation

/// Turns SIGTERM and SIGINT into a callback, once per signal, so services drain and exit 0
/// instead of dying mid-job.
enum SignalTrap {
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Installs the handler; call once, early, from the main thread.
    static func onTerminate(_ handler: @escaping @Sendable (Int32) -> Void) {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { handler(signalNumber) }
            source.resume()
            sources.append(source)
        }
    }
}
