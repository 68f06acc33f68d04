import Gateway
import Logging
import ServiceLifecycle
import Testing

@Suite("Gateway as a service")
struct GatewayServiceLifecycleTests {
    @Test(.timeLimit(.minutes(1))) func aGracefulShutdownOfItsGroupDrainsTheGatewayAndEndsTheGroup() async throws {
        let bound = AsyncStream<String>.makeStream()
        let service = GatewayService(
            configuration: GatewayConfiguration(
                roles: ["preprocessor"], replicaTrust: ReplicaCredentials().trust(), maxInFlight: 8,
                maxPayloadBytes: 1024, defaultDeadline: .seconds(10), maxDeadline: .seconds(60),
                replicaTimeout: .seconds(2), maxAttempts: 3),
            frontEndpoint: "tcp://127.0.0.1:0", backendEndpoint: "tcp://127.0.0.1:0",
            logger: Logger(label: "test.gateway"),
            onBound: { front, _ in
                bound.continuation.yield(front)
                bound.continuation.finish()
            })
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: service, successTerminationBehavior: .gracefullyShutdownGroup)],
                logger: Logger(label: "test.group")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var endpoints = bound.stream.makeAsyncIterator()
            let front = await endpoints.next()
            #expect(front?.hasPrefix("tcp://127.0.0.1:") == true)
            #expect(service.snapshot.draining == false)
            await group.triggerGracefulShutdown()
            // The group's run returns only once the gateway's loop has drained and ended.
            try await tasks.waitForAll()
        }
        #expect(service.snapshot.draining)
    }
}
