import Foundation
import Histogram
import TimeUnits

/// The plain protocol between a load-test coordinator and its agents (`sealpipe loadtest
/// --agent` on each host): one ZeroMQ REQ/REP exchange per run, each message one frame of JSON.
/// The coordinator sends a `Plan` (its share of the load, and the bodies to send); the agent
/// runs it against the pipeline *it* was started for (its own topology and verified manifest:
/// the coordinator chooses no keys or endpoints) and answers with a `Report` holding its
/// figures, HDR histogram included, or an error naming what it refused.
///
/// Both sides bound what they read (`maxMessageBytes`, and limits on every field) and refuse a
/// malformed message by name rather than guess.
public enum LoadAgentMessage {
    public static let version = 1
    /// The largest message either side reads.
    public static let maxMessageBytes = 8 << 20
    static let maxBodies = 4096
    static let maxBodyBytes = 1 << 20
    static let maxWorkers = 256
    static let maxRate = 1_000_000.0
    static let maxConcurrency = 100_000
    static let maxSeconds = 86_400.0
    static let maxRequests = 100_000_000
    /// Distinct values in one histogram (an HDR histogram with 3 significant digits up to an
    /// hour has ~25k buckets), and over the whole per-second timeline.
    static let maxHistogramValues = 50_000
    static let maxTimelineValues = 2_000_000
    static let maxErrorCodes = 256

    /// What a coordinator asks one agent to run.
    public struct Plan: Codable, Sendable, Equatable {
        public var version: Int
        /// `open-loop` (with `rate`) or `closed-loop` (with `concurrency`).
        public var mode: String
        public var rate: Double?
        public var concurrency: Int?
        public var warmUpSeconds: Double
        public var durationSeconds: Double?
        public var requests: Int?
        public var jobTimeoutSeconds: Double
        /// Load-generating threads on the agent.
        public var workers: Int
        /// The bodies, base64.
        public var bodies: [String]

        enum CodingKeys: String, CodingKey {
            case version, mode, rate, concurrency, requests, workers, bodies
            case warmUpSeconds = "warm_up_s"
            case durationSeconds = "duration_s"
            case jobTimeoutSeconds = "job_timeout_s"
        }

        public init(_ plan: LoadTestPlan, workers: Int) {
            version = LoadAgentMessage.version
            switch plan.mode {
            case .openLoop(let rate):
                mode = "open-loop"
                self.rate = rate
            case .closedLoop(let concurrency):
                mode = "closed-loop"
                self.concurrency = concurrency
            }
            warmUpSeconds = plan.warmUp.secondsValue
            durationSeconds = plan.duration?.secondsValue
            requests = plan.requests
            jobTimeoutSeconds = plan.jobTimeout.secondsValue
            self.workers = workers
            bodies = plan.bodies.map { Data($0).base64EncodedString() }
        }

        /// The plan to run, after checking every field; throws naming the first one that is wrong.
        public func validated() throws(LoadAgentError) -> (plan: LoadTestPlan, workers: Int) {
            guard version == LoadAgentMessage.version else {
                throw .refused("version \(version) is not the agent protocol's (\(LoadAgentMessage.version))")
            }
            let arrival: LoadTestPlan.Mode
            switch (mode, rate, concurrency) {
            case ("open-loop", let rate?, nil):
                guard rate.isFinite, rate > 0, rate <= maxRate else { throw .refused("rate \(rate) is out of range") }
                arrival = .openLoop(ratePerSecond: rate)
            case ("closed-loop", nil, let concurrency?):
                guard (1...maxConcurrency).contains(concurrency) else {
                    throw .refused("concurrency \(concurrency) is out of range")
                }
                arrival = .closedLoop(concurrency: concurrency)
            default:
                throw .refused("mode must be open-loop with a rate, or closed-loop with a concurrency")
            }
            func seconds(_ value: Double, _ name: String, allowZero: Bool) throws(LoadAgentError) -> Duration {
                guard value.isFinite, allowZero ? value >= 0 : value > 0, value <= maxSeconds else {
                    throw .refused("\(name) \(value) is out of range")
                }
                return .milliseconds(Int64((value * 1000).rounded()))
            }
            let warmUp = try seconds(warmUpSeconds, "warm_up_s", allowZero: true)
            let jobTimeout = try seconds(jobTimeoutSeconds, "job_timeout_s", allowZero: false)
            var duration: Duration?
            if let durationSeconds { duration = try seconds(durationSeconds, "duration_s", allowZero: false) }
            if let requests, !(1...maxRequests).contains(requests) {
                throw .refused("requests \(requests) is out of range")
            }
            guard duration != nil || requests != nil else { throw .refused("neither duration_s nor requests is given") }
            guard (1...maxWorkers).contains(workers) else { throw .refused("workers \(workers) is out of range") }
            guard (1...maxBodies).contains(bodies.count) else {
                throw .refused("\(bodies.count) bodies (1 to \(maxBodies) allowed)")
            }
            var decoded: [[UInt8]] = []
            for (index, body) in bodies.enumerated() {
                guard let data = Data(base64Encoded: body), data.count <= maxBodyBytes else {
                    throw .refused("bodies[\(index)] is not base64 of at most \(maxBodyBytes) bytes")
                }
                decoded.append(Array(data))
            }
            return (
                LoadTestPlan(
                    mode: arrival, warmUp: warmUp, duration: duration, requests: requests, bodies: decoded,
                    jobTimeout: jobTimeout), workers
            )
        }
    }

    /// An agent's answer: its figures, or why it refused or failed.
    public struct Report: Codable, Sendable {
        public var version: Int
        public var error: String?
        public var figures: Figures?
    }

    /// One agent's mergeable figures: `LoadTestTally` in portable form (no clock instants; the
    /// histograms as value/count pairs, re-recorded on the coordinator).
    public struct Figures: Codable, Sendable, Equatable {
        public var measuredSeconds: Double
        public var histogram: [[UInt64]]
        public var timeline: [Second]
        public var errorsByCode: [String: Int]
        public var totalSent: Int
        public var measuredSent: Int
        public var results: Int
        public var errors: Int
        public var manifestRefreshes: Int
        public var resent: Int
        public var clientCPUSeconds: Double
        public var workers: Int

        public struct Second: Codable, Sendable, Equatable {
            public var second: Int
            public var histogram: [[UInt64]]
        }

        enum CodingKeys: String, CodingKey {
            case histogram, timeline, results, errors, resent, workers
            case measuredSeconds = "measured_s"
            case errorsByCode = "errors_by_code"
            case totalSent = "total_sent"
            case measuredSent = "measured_sent"
            case manifestRefreshes = "manifest_refreshes"
            case clientCPUSeconds = "client_cpu_seconds"
        }

        init(_ tally: LoadTestTally, clientCPUSeconds: Double, workers: Int) {
            measuredSeconds = max(0, Double((tally.lastCompletion - tally.measuredFrom).wholeMicroseconds) / 1e6)
            histogram = Self.pairs(tally.histogram)
            timeline = tally.perSecond.keys.sorted().map {
                Second(second: $0, histogram: Self.pairs(tally.perSecond[$0]!))
            }
            errorsByCode = tally.errorsByCode
            totalSent = tally.totalSent
            measuredSent = tally.measuredSent
            results = tally.results
            errors = tally.errors
            manifestRefreshes = tally.manifestRefreshes
            resent = tally.resent
            self.clientCPUSeconds = clientCPUSeconds
            self.workers = workers
        }

        static func pairs(_ histogram: Histogram<UInt64>) -> [[UInt64]] {
            histogram.recordedValues().map { [$0.value, $0.count] }
        }

        /// The tally these figures describe, measured from `measuredFrom`; throws naming the
        /// first field that is out of range or inconsistent.
        func tally(measuredFrom: ContinuousClock.Instant) throws(LoadAgentError) -> LoadTestTally {
            let counts = [totalSent, measuredSent, results, errors, manifestRefreshes, resent, workers]
            guard counts.allSatisfy({ (0...LoadAgentMessage.maxRequests * 2).contains($0) }) else {
                throw .refused("a count is negative or out of range")
            }
            guard measuredSeconds.isFinite, (0...maxSeconds * 2).contains(measuredSeconds) else {
                throw .refused("measured_s \(measuredSeconds) is out of range")
            }
            guard clientCPUSeconds.isFinite, clientCPUSeconds >= 0 else {
                throw .refused("client_cpu_seconds \(clientCPUSeconds) is out of range")
            }
            guard errorsByCode.count <= maxErrorCodes, errorsByCode.values.allSatisfy({ $0 >= 0 }),
                errorsByCode.values.reduce(0, +) == errors
            else { throw .refused("errors_by_code does not add up to errors") }
            var tally = LoadTestTally(measuredFrom: measuredFrom)
            tally.histogram = try Self.histogram(histogram, "histogram", digits: .three)
            guard tally.histogram.totalCount == UInt64(results) else {
                throw .refused("the histogram holds \(tally.histogram.totalCount) values for \(results) results")
            }
            guard timeline.reduce(0, { $0 + $1.histogram.count }) <= maxTimelineValues else {
                throw .refused("the timeline has too many values")
            }
            for point in timeline {
                guard (0...Int(maxSeconds * 2)).contains(point.second), tally.perSecond[point.second] == nil else {
                    throw .refused("timeline second \(point.second) is out of range or repeated")
                }
                tally.perSecond[point.second] = try Self.histogram(
                    point.histogram, "timeline[\(point.second)]", digits: .two)
            }
            tally.errorsByCode = errorsByCode
            tally.totalSent = totalSent
            tally.measuredSent = measuredSent
            tally.results = results
            tally.errors = errors
            tally.manifestRefreshes = manifestRefreshes
            tally.resent = resent
            tally.lastCompletion = measuredFrom + .microseconds(Int64(measuredSeconds * 1e6))
            return tally
        }

        private static func histogram(_ pairs: [[UInt64]], _ name: String, digits: SignificantDigits)
            throws(LoadAgentError) -> Histogram<UInt64>
        {
            guard pairs.count <= maxHistogramValues else { throw .refused("\(name) has too many values") }
            var histogram = Histogram<UInt64>(
                highestTrackableValue: LoadTestTally.highestTrackableMicroseconds,
                numberOfSignificantValueDigits: digits)
            for pair in pairs {
                guard pair.count == 2, pair[0] <= LoadTestTally.highestTrackableMicroseconds,
                    pair[1] <= UInt64(LoadAgentMessage.maxRequests), histogram.record(pair[0], count: pair[1])
                else { throw .refused("\(name) holds a value that is not a [microseconds, count] pair in range") }
            }
            return histogram
        }
    }

    /// Decodes one message of type `T`, refusing an oversized or malformed one by name.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws(LoadAgentError) -> T {
        guard bytes.count <= maxMessageBytes else {
            throw .refused("the \(what) is \(bytes.count) bytes (at most \(maxMessageBytes))")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .refused("the \(what) lacks \(key.stringValue)")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw .refused("the \(what) has a wrong type at \(path.isEmpty ? "its top level" : path)")
        } catch {
            throw .refused("the \(what) is not JSON of the agent protocol")
        }
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        // Plain values (numbers, strings, arrays): encoding cannot fail.
        (try? Array(JSONEncoder().encode(value))) ?? Array("{}".utf8)
    }
}

/// A message of the load agent protocol that was refused, or an agent that failed.
public enum LoadAgentError: Error, Sendable, Equatable, CustomStringConvertible {
    case refused(String)
    case agent(String, String)

    public var description: String {
        switch self {
        case .refused(let reason): "load agent protocol: \(reason)"
        case .agent(let address, let reason): "load agent \(address): \(reason)"
        }
    }
}
