import Foundation
import Sodium
import Wire
import ZeroMQ

/// Measures, in one run, what one pipeline hop costs next to its bare cryptography:
/// - `sealOpen`: one sealed box made and opened (the baseline);
/// - `hop`: the whole hop as a stage does it, for a bundle of one job — seal and sign (`HopSender`), send over loopback
///   TCP through ZeroMQ, receive, verify the sender and open (`HopReceiver`) — one at a time on
///   one thread, so the figure is the sum of every step, not an overlap of two cores.
public enum HopBenchmark {
    public struct Result: Sendable, Codable {
        public var payloadBytes: Int
        public var iterations: Int
        public var sealOpenMicroseconds: Double
        public var hopMicroseconds: Double
        public var ratio: Double
    }

    public static func run(payloadBytes: Int, iterations: Int) throws -> Result {
        let upstream = SigningKeyPair.generate()
        let downstreamBox = BoxKeyPair.generate()
        let sender = HopSender(
            keys: StageKeys(
                role: "a", boxKeys: [1: .generate()], signing: upstream, upstream: nil,
                downstream: (role: "b", epoch: 1, boxKey: downstreamBox.publicKey)))
        var receiver = HopReceiver(
            keys: StageKeys(
                role: "b", boxKeys: [1: downstreamBox], signing: .generate(), upstream: (role: "a", signingKey: upstream.publicKey),
                downstream: nil))
        let payload = SecureRandom.bytes(payloadBytes)
        let reply = BoxKeyPair.generate().publicKey.bytes

        // Baseline: seal + open of an envelope of the same size.
        let envelope = JobEnvelope(jobID: .random(), replyKey: reply, body: payload).encoded()
        let clock = ContinuousClock()
        for _ in 0..<min(50, iterations) { _ = try SealedBox.open(try SealedBox.seal(envelope, to: downstreamBox.publicKey), with: downstreamBox) }
        let baseline = try clock.measure {
            for _ in 0..<iterations { _ = try SealedBox.open(try SealedBox.seal(envelope, to: downstreamBox.publicKey), with: downstreamBox) }
        }

        // The whole hop.
        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        let push = try context.socket(.push)
        try push.connect(endpoint)
        let deadline = UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        func oneHop() throws {
            let job = HopReceiver.AcceptedJob(jobID: .random(), deadline: deadline, replyKey: reply, body: payload)
            var message = try sender.bundle(id: .random(), outputs: [(job, payload)])
            message.header.type = .workBundle
            message.header.hop = 1
            try push.send(message.frames)
            guard let frames = try pull.receive(timeout: .seconds(5)) else { throw HopBenchmarkError.lost }
            guard case .success = receiver.receive(frames: frames, now: deadline - 1) else { throw HopBenchmarkError.refused }
        }
        for _ in 0..<min(50, iterations) { try oneHop() }
        let hop = try clock.measure { for _ in 0..<iterations { try oneHop() } }

        let sealOpen = baseline.microsecondsValue / Double(iterations)
        let perHop = hop.microsecondsValue / Double(iterations)
        return Result(
            payloadBytes: payloadBytes, iterations: iterations, sealOpenMicroseconds: sealOpen, hopMicroseconds: perHop,
            ratio: perHop / sealOpen)
    }
}

enum HopBenchmarkError: Error {
    case lost, refused
}

extension Duration {
    var microsecondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
    }
}
