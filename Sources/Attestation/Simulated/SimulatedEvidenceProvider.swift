public import Foundation
import Sodium

/// Collects simulated evidence: a report of this executable's measurement, signed by a platform
/// key on local disk. For machines without a TEE; it warns, loudly, when it starts.
public struct SimulatedEvidenceProvider: EvidenceProvider {
    /// What every simulated provider says when it starts.
    public static let warning =
        "SIMULATED TEE: evidence is signed by a software platform key, not by hardware. It proves which binary and configuration a node claims to run to a broker that trusts this key; it does NOT protect against anyone who holds the platform key or controls this machine."

    public let kind = EvidenceKind.simulated
    public let platformKey: PlatformKey
    public let measurement: [UInt8]
    public let debug: Bool
    private let clock: @Sendable () -> Date

    /// - Parameters:
    ///   - measurement: normally `SimulatedTEE.measurement(executable: SimulatedTEE.runningExecutable, configuration:)`.
    ///   - warn: receives the simulation warning once, at start (the caller's logger).
    public init(
        platformKey: PlatformKey, measurement: [UInt8], debug: Bool = false,
        clock: @escaping @Sendable () -> Date = { Date() }, warn: (String) -> Void
    ) {
        self.platformKey = platformKey
        self.measurement = measurement
        self.debug = debug
        self.clock = clock
        warn(Self.warning)
    }

    /// Measures the running executable with `configuration`.
    public init(
        platformKey: PlatformKey, configuration: [UInt8], debug: Bool = false, warn: (String) -> Void
    ) throws(AttestationError) {
        let measured = try SimulatedTEE.measurement(
            executable: SimulatedTEE.runningExecutable, configuration: configuration)
        self.init(platformKey: platformKey, measurement: measured, debug: debug, warn: warn)
    }

    public func collect(reportData: [UInt8]) throws -> Evidence {
        let now = Int64(clock().timeIntervalSince1970.rounded(.down))
        let report = try SimulatedReport(
            measurement: measurement, reportData: reportData, debug: debug, timestamp: now,
            signedBy: platformKey.keyPair)
        return Evidence(kind: .simulated, report: report.bytes)
    }
}
