import Observability

/// Runs a metrics endpoint the way its `ServiceGroup` would, for tests that then block on
/// sockets: returns once the accept loop runs, so no blocking call waits on the task that starts it.
enum MetricsServing {
    static func start(_ server: MetricsHTTPServer) async throws -> Task<Void, any Error> {
        let serving = Task { try await server.run() }
        while !server.isServing { try await Task.sleep(for: .milliseconds(1)) }
        return serving
    }
}
