import Foundation
import Observability
import Sodium
import TimeUnits
import Wire
import ZeroMQ

/// Measures, in one run, what one pipeline hop costs next to its bare cryptography:
/// - `sealOpen`: one sealed box of the same plaintext made and opened (the baseline), in CPU time;
/// - `hopCPU`: the whole hop as stages do it, for a bundle of one job — seal and sign
///   (`HopSender`), send over loopback TCP through ZeroMQ, receive, verify the sender and open
///   (`HopReceiver`) — streamed from one thread to another, in CPU time of the whole process
///   (both threads, ZeroMQ's I/O threads and the kernel's work for them) per hop. This is the
///   hop's cost: what a loaded pipeline pays for it.
/// - `hopLatency`: the same hop one at a time, in wall time: what one job waits, including
///   thread wake-ups that cost little CPU.
/// - `hopWithReceipts`: the streamed hop for a job that asked for receipts and arrives with one
///   upstream receipt (so the sender keys two digests, signs its receipt and re-encodes the
///   chain, and the receiver carries it on), in the same alternating rounds: the difference is
///   what receipts cost per job per stage.
public enum HopBenchmark {
    public struct Result: Sendable, Codable {
        public var payloadBytes: Int
        public var iterations: Int
        public var sealOpenMicroseconds: Double
        public var hopMicroseconds: Double
        public var hopLatencyMicroseconds: Double
        /// `hopMicroseconds / sealOpenMicroseconds`: both CPU time.
        public var ratio: Double
        /// The streamed hop of a job with receipts, CPU time.
        public var hopWithReceiptsMicroseconds: Double
        /// Bytes of one stage's receipt (a 7-byte role with a shard digest, as `shard-0`'s).
        public var receiptBytes: Int
        /// Bytes receipts add to one job's result through `Topologies/minilm.yaml`'s four stages.
        public var receiptBytesPerJob: Int
    }

    public static func run(payloadBytes: Int, iterations: Int) throws -> Result {
        let upstream = SigningKeyPair.generate()
        let downstreamBox = BoxKeyPair.generate()
        // The benchmark never announces itself to a gateway: its certificates stay unsigned.
        func certificate(_ role: String, _ key: SigningKeyPair) -> RoleCertificate {
            RoleCertificate(
                pipelineID: "hop-benchmark", role: role, epoch: 1, signingKey: key.publicKey.bytes, notAfter: 0)
        }
        let sender = HopSender(
            keys: StageKeys(
                role: "a", position: 0, boxKeys: [1: .generate()], signing: [1: upstream],
                certificate: certificate("a", upstream),
                upstream: nil, downstream: (role: "b", boxKeys: [1: downstreamBox.publicKey])))
        let receiverSigning = SigningKeyPair.generate()
        let receiverKeys = StageKeys(
            role: "b", position: 1, boxKeys: [1: downstreamBox], signing: [1: receiverSigning],
            certificate: certificate("b", receiverSigning),
            upstream: (role: "a", signingKeys: [1: upstream.publicKey]), downstream: nil)
        let payload = SecureRandom.bytes(payloadBytes)
        let securePayload = SecureBytes(copying: payload)
        let reply = BoxKeyPair.generate().publicKey.bytes
        let deadline = UInt64(Date().timeIntervalSince1970 * 1000) + 3_600_000
        let warmUp = min(50, iterations)

        // Baseline: seal + open of an envelope of the same size.
        let envelope = JobEnvelope(jobID: .random(), expiresAt: deadline, replyKey: reply, body: payload).encoded()
        func sealOpen() throws {
            _ = try SealedBox.open(try SealedBox.seal(envelope, to: downstreamBox.publicKey), with: downstreamBox)
        }
        for _ in 0..<warmUp { try sealOpen() }

        let context = try ZMQContext()
        let pull = try context.socket(.pull)
        let endpoint = try pull.bind("tcp://127.0.0.1:*")
        let push = try context.socket(.push)
        try push.connect(endpoint)
        // What a job with receipts carries in from upstream: one receipt.
        let upstreamChain = ReceiptChain.encode([
            StageReceipt(
                role: "preprocessor", replica: 0, epoch: 1, releaseIndex: 1, shardDigest: [],
                inputDigest: [UInt8](repeating: 1, count: 32), outputDigest: [UInt8](repeating: 2, count: 32), time: 1,
                signature: [UInt8](repeating: 3, count: 64))
        ])
        func sendHop(receipts: Bool = false) throws {
            let job = HopReceiver.AcceptedJob(
                jobID: .random(), deadline: deadline, expiresAt: deadline, replyKey: reply, body: securePayload,
                options: receipts ? .receipts : [], receipts: receipts ? upstreamChain : [])
            var message = try sender.bundle(id: .random(), epoch: 1, outputs: [(job, securePayload)])
            message.header.type = .workBundle
            message.header.hop = 1
            try push.send(message.frames)
        }
        var receiver = HopReceiver(keys: receiverKeys, limits: .init(maxDeadlineMilliseconds: 3_600_000))
        func receiveHop() throws {
            guard let frames = try pull.receive(timeout: .seconds(5)) else { throw HopBenchmarkError.lost }
            guard case .success = receiver.receive(frames: frames, now: deadline - 1) else {
                throw HopBenchmarkError.refused
            }
        }

        // Latency: one hop at a time, on one thread.
        for _ in 0..<warmUp {
            try sendHop()
            try receiveHop()
        }
        let clock = ContinuousClock()
        let latency = try clock.measure {
            for _ in 0..<iterations {
                try sendHop()
                try receiveHop()
            }
        }

        // Cost: hops streamed from this thread to a receiving one, in rounds that alternate with
        // the baseline so that both see the same machine (it is shared and noisy); the medians
        // of the rounds are reported.
        let perRound = max(1, iterations / rounds)
        var sealOpenCosts: [Double] = []
        var hopCosts: [Double] = []
        var receiptHopCosts: [Double] = []
        for _ in 0..<rounds {
            sealOpenCosts.append(
                try ProcessCPU.measure { for _ in 0..<perRound { try sealOpen() } } * 1e6 / Double(perRound))
            let receiving = ReceiverThread(count: perRound) { try receiveHop() }
            hopCosts.append(
                try ProcessCPU.measure {
                    receiving.start()
                    for _ in 0..<perRound { try sendHop() }
                    try receiving.wait()
                } * 1e6 / Double(perRound))
            let receivingWithReceipts = ReceiverThread(count: perRound) { try receiveHop() }
            receiptHopCosts.append(
                try ProcessCPU.measure {
                    receivingWithReceipts.start()
                    for _ in 0..<perRound { try sendHop(receipts: true) }
                    try receivingWithReceipts.wait()
                } * 1e6 / Double(perRound))
        }
        let sealOpenMicroseconds = median(sealOpenCosts)
        let hopMicroseconds = median(hopCosts)
        return Result(
            payloadBytes: payloadBytes, iterations: perRound * rounds, sealOpenMicroseconds: sealOpenMicroseconds,
            hopMicroseconds: hopMicroseconds, hopLatencyMicroseconds: latency.microsecondsValue / Double(iterations),
            ratio: hopMicroseconds / sealOpenMicroseconds, hopWithReceiptsMicroseconds: median(receiptHopCosts),
            receiptBytes: StageReceipt.encodedCount(roleBytes: 7, shardDigestCount: 32),
            receiptBytesPerJob: Self.minilmReceiptBytes)
    }

    /// Receipts' bytes in one result of `Topologies/minilm.yaml`: the chain's count byte, its
    /// four receipts (the two encoder shards with shard digests) and the result's length field.
    static let minilmReceiptBytes =
        1 + 4
        + [("preprocessor", 0), ("shard-0", 32), ("shard-1", 32), ("postprocessor", 0)].reduce(0) {
            $0 + StageReceipt.encodedCount(roleBytes: $1.0.utf8.count, shardDigestCount: $1.1)
        }

    /// Alternating rounds of baseline and hop measurement.
    static let rounds = 5

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}

/// Runs `count` calls of `body` on its own thread and hands back the first error.
private final class ReceiverThread: @unchecked Sendable {
    // @unchecked Sendable: `failure` is written by the thread before `done` is signalled and
    // read only after waiting on it; `body` is used by that thread alone.
    private let count: Int
    private let body: () throws -> Void
    private let done = DispatchSemaphore(value: 0)
    private var failure: (any Error)?

    init(count: Int, body: @escaping () throws -> Void) {
        self.count = count
        self.body = body
    }

    func start() {
        Thread { [self] in
            do { for _ in 0..<count { try body() } } catch { failure = error }
            done.signal()
        }.start()
    }

    func wait() throws {
        done.wait()
        if let failure { throw failure }
    }
}

/// CPU time of the whole process spent in `body` (all threads, including ZeroMQ's).
enum ProcessCPU {
    static func measure(_ body: () throws -> Void) rethrows -> Double {
        let start = ProcessMetrics.cpuSeconds()
        try body()
        return ProcessMetrics.cpuSeconds() - start
    }
}

enum HopBenchmarkError: Error {
    case lost, refused
}
