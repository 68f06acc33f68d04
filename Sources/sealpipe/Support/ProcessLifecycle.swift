import Logging
import ServiceLifecycle
import UnixSignals

/// The one lifecycle of every long-running command: its services in one `ServiceGroup`,
/// gracefully shut down on SIGTERM or SIGINT (a drain: in-flight jobs finish, the process exits 0).
enum ProcessLifecycle {
    /// One service of the process. `ends` marks the service whose return ends the process (the
    /// gateway or stage once drained, the launcher once its children stopped): the others are
    /// then shut down too. Services shut down in reverse order, so list what serves the others
    /// (a metrics endpoint) first and what depends on them (key rotation) last.
    struct Member {
        var service: any Service
        var name: String
        var ends: Bool = false
    }

    /// Runs `members` until a graceful shutdown (a signal, or an ending member returning) has
    /// stopped them all; rethrows the first failure.
    static func run(_ members: [Member], logger: Logger) async throws {
        let configurations = members.map { member in
            ServiceGroupConfiguration.ServiceConfiguration(
                service: member.service,
                successTerminationBehavior: member.ends ? .gracefullyShutdownGroup : .ignore,
                failureTerminationBehavior: .gracefullyShutdownGroup,
                serviceName: member.name)
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: configurations, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
