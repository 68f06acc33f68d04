import Foundation
import SealpipeClient
import Sodium
import Testing
import Trust
import Wire
import ZeroMQ

extension EndToEndTests {
    /// Anyone who reaches the launched gateway's backend port and announces itself as the front
    /// stage, with room for every job and a certificate from a broker of its own, gets no job;
    /// its rejections and results end nothing; the gateway's status counts all of it.
    @Test func aFakeReplicaOnTheBackendOfALaunchedPipelineGetsNoJob() throws {
        let pipeline = try LaunchedPipeline(topology: "echo.yaml")
        let target = try pipeline.verifiedTarget(
            stateDirectory: "echo", keyBroker: "tcp://127.0.0.1:5580", front: "tcp://127.0.0.1:5585")
        let gatewayMetricsPort = 9431  // Topologies/echo.yaml: basePort 9430, the broker first, then the gateway

        let context = try ZMQContext()
        let fake = try context.socket(.dealer)
        let routingID = Array("preprocessor.0.fake".utf8)
        try fake.setRoutingID(routingID)
        try fake.connect("tcp://127.0.0.1:5586")
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let impostor = SigningKeyPair.generate()
        let forged = RoleCertificate(
            pipelineID: "echo", role: "preprocessor", epoch: target.epoch, signingKey: impostor.publicKey.bytes,
            notAfter: now + 3_600_000
        ).signed(with: SigningKeyPair.generate())
        var announcement = ReplicaAnnouncement(
            role: "preprocessor", replica: 0, instance: 1, capacity: 1_000_000, epochs: [target.epoch], timestamp: now,
            certificate: forged.encoded())
        announcement.signature = impostor.signature(for: announcement.signedBytes(routingID: routingID))
        let header = MessageHeader(type: .ready, jobID: JobID(bytes: Array(repeating: 0, count: 16))!)
        try fake.send([header.encoded(), announcement.encoded()])

        func status() throws -> [String: Any] {
            try #require(
                try JSONSerialization.jsonObject(with: Data(HTTPStatus.fetch(port: gatewayMetricsPort).utf8))
                    as? [String: Any])
        }
        let deadline = Date().addingTimeInterval(10)
        while (try status()["announcementsRefused"] as? [String: Int])?["certificate_signature"] != 1, Date() < deadline
        {
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect((try status()["announcementsRefused"] as? [String: Int]) == ["certificate_signature": 1])

        // Seven jobs: every one is answered by the genuine pipeline, none reaches the fake.
        let client = try PipelineClient(target: target)
        let bodies = (0..<7).map { Array("job \($0)".utf8) }
        let answers = try client.submit(bodies, timeout: .seconds(30))
        #expect(answers.map { try? $0.get() } == bodies)
        #expect(try fake.receive(timeout: .milliseconds(200)) == nil)

        // What it sends as a replica is dropped and counted.
        try fake.send([
            MessageHeader(type: .reject, code: ErrorCode.stageFailed.rawValue, jobID: .random()).encoded(),
            Array("no".utf8), [],
        ])
        while (try status()["droppedFromReplicas"] as? [String: Int])?["unproven_peer"] != 1, Date() < deadline + 10 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let final = try status()
        #expect((final["droppedFromReplicas"] as? [String: Int])?["unproven_peer"] == 1)
        #expect((final["replicas"] as? [[String: Any]])?.count == 4)
        #expect(final["results"] as? Int == 7)
        fake.close()
        #expect(pipeline.stop() == 0)
    }
}
