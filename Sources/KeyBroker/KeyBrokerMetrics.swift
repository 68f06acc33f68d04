import Foundation
import Observability
import Synchronization

/// Counters of what the broker did, created once per broker and rendered for Prometheus.
/// Labels are role and check names only: nothing secret, nothing per request.
public final class KeyBrokerMetrics: Sendable {
    private struct Counts {
        var nonces: UInt64 = 0
        var releases: [String: UInt64] = [:]
        var refusals: [String: UInt64] = [:]
        /// Refusals not written to the log because the log's refusal budget was spent.
        var refusalsUnlogged: UInt64 = 0
        /// Requests turned away before any handler, by fixed reason name.
        var rejections: [String: UInt64] = [:]
        var errors: UInt64 = 0
        var duration = BucketHistogram.durations()
        /// Attestation request received → key bundle sealed and logged, for releases only.
        var release = BucketHistogram.durations()
    }

    private let counts = Mutex(Counts())

    public init() {}

    func nonceIssued() { counts.withLock { $0.nonces += 1 } }
    func released(role: String, seconds: Double) {
        counts.withLock {
            $0.releases[role, default: 0] += 1
            $0.release.observe(seconds)
        }
    }
    func refused(check: String) { counts.withLock { $0.refusals[check, default: 0] += 1 } }
    func refusalUnlogged() { counts.withLock { $0.refusalsUnlogged += 1 } }
    func rejected(reason: String) { counts.withLock { $0.rejections[reason, default: 0] += 1 } }
    func failed() { counts.withLock { $0.errors += 1 } }
    func handled(seconds: Double) { counts.withLock { $0.duration.observe(seconds) } }

    /// Key releases so far, by role.
    public var releases: [String: UInt64] { counts.withLock { $0.releases } }
    /// Refusals so far, by the name of the failed check.
    public var refusals: [String: UInt64] { counts.withLock { $0.refusals } }
    /// Requests turned away before any handler (malformed, oversize, busy), by reason.
    public var rejections: [String: UInt64] { counts.withLock { $0.rejections } }
    /// Refusals counted but not written to the log.
    public var refusalsUnlogged: UInt64 { counts.withLock { $0.refusalsUnlogged } }

    /// Prometheus text exposition of every counter.
    public func exposition() -> String {
        let snapshot = counts.withLock { $0 }
        var out = PrometheusExposition()
        out.counter("sealpipe_kms_nonces_issued_total", "One-time nonces handed out.", Double(snapshot.nonces))
        for (role, value) in snapshot.releases.sorted(by: { $0.key < $1.key }) {
            out.counter(
                "sealpipe_kms_key_releases_total", "Key bundles released after attestation.", Double(value),
                labels: ["role": role])
        }
        for (check, value) in snapshot.refusals.sorted(by: { $0.key < $1.key }) {
            out.counter(
                "sealpipe_kms_refusals_total", "Key requests refused, by failed check.", Double(value),
                labels: ["check": check])
        }
        out.counter(
            "sealpipe_kms_refusals_unlogged_total", "Refusals not written to the log (its refusal budget was spent).",
            Double(snapshot.refusalsUnlogged))
        for (reason, value) in snapshot.rejections.sorted(by: { $0.key < $1.key }) {
            out.counter(
                "sealpipe_kms_requests_rejected_total",
                "Requests turned away before handling (malformed, oversize, busy), by reason.", Double(value),
                labels: ["reason": reason])
        }
        out.counter("sealpipe_kms_request_errors_total", "Requests answered with an error.", Double(snapshot.errors))
        out.histogram("sealpipe_kms_request_seconds", "Time to handle one request.", snapshot.duration)
        out.histogram(
            "sealpipe_kms_key_release_seconds", "Time to verify evidence, then seal and log a released key bundle.",
            snapshot.release)
        return out.text
    }
}

extension KeyBrokerMetrics {
    /// What `sealpipe status` shows for the broker, as JSON: request, release and refusal counts.
    public func statusJSON(pipeline: String) -> String {
        let snapshot = counts.withLock { $0 }
        let object: [String: Any] = [
            "service": "kms", "pipeline": pipeline, "requests": Int(snapshot.duration.count),
            "nonces": Int(snapshot.nonces), "releases": Int(snapshot.releases.values.reduce(0, +)),
            "refusals": snapshot.refusals.mapValues { Int($0) }, "errors": Int(snapshot.errors),
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}
