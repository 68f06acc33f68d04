public import Foundation
public import Sodium
public import Trust
import ZeroMQ

/// Fetches the pipeline manifest from the key broker and checks it against the broker key the
/// client pinned, before anything is sealed.
public enum ManifestFetcher {
    public enum Failure: Error, CustomStringConvertible {
        case noAnswer(endpoint: String)
        case brokerSaid(String)
        case rejected(ManifestVerificationReport)

        /// Whether the manifest was refused only because its policy accepts simulated evidence
        /// the caller did not allow: allowing it would make this manifest acceptable.
        public var refusedOnlyForSimulatedEvidence: Bool {
            if case .rejected(let report) = self { return report.failedChecks == [.simulatedEvidence] }
            return false
        }

        public var description: String {
            switch self {
            case .noAnswer(let endpoint): "the key broker at \(endpoint) did not answer"
            case .brokerSaid(let status): "the key broker did not send a manifest: \(status)"
            case .rejected(let report):
                "the manifest failed verification: "
                    + report.results.filter { $0.passed == false }.map { "\($0.check.rawValue) (\($0.detail))" }
                    .joined(separator: "; ")
            }
        }
    }

    /// Asks the broker at `endpoint` for the current manifest (unverified).
    public static func fetch(from endpoint: String, timeout: Duration = .seconds(5)) throws -> PipelineManifest {
        let context = try ZMQContext()
        let socket = try context.socket(.dealer)
        try socket.connect(endpoint)
        // A DEALER speaks to the broker's ROUTER like a REQ: an empty delimiter, then the request.
        try socket.send([[], try KMSRequest.manifest.encoded()])
        guard let frames = try socket.receive(timeout: timeout), let body = frames.last else {
            throw Failure.noAnswer(endpoint: endpoint)
        }
        let response = try KMSResponse(decoding: body)
        guard let manifest = response.manifest else { throw Failure.brokerSaid("\(response.status)") }
        return manifest
    }

    /// Verifies `manifest` against the pinned broker key (and optional expectations); throws
    /// with every failed check, returns the full report otherwise.
    ///
    /// A pipeline whose policy accepts simulated evidence for any role is refused (check
    /// `simulated-evidence`, naming the roles) unless `allowSimulated` is true: a simulated TEE
    /// protects nothing from whoever runs its host.
    @discardableResult
    public static func verify(
        _ manifest: PipelineManifest, pinnedBrokerKey: SigningPublicKey, expectedMeasurements: [String: Set<String>]? = nil,
        allowSimulated: Bool = false, now: Date = Date()
    ) throws -> ManifestVerificationReport {
        let report = ManifestVerifier.verify(
            manifest, pinnedBrokerKey: pinnedBrokerKey, expectedMeasurements: expectedMeasurements,
            allowSimulated: allowSimulated, now: now)
        guard report.isValid else { throw Failure.rejected(report) }
        return report
    }
}

extension PipelineTarget {
    /// The target a verified manifest describes, at the gateway's front endpoint.
    public init(manifest: PipelineManifest, frontEndpoint: String) throws {
        guard let epoch = UInt32(exactly: manifest.frontKey.epoch) else {
            throw ManifestFetcher.Failure.brokerSaid("epoch \(manifest.frontKey.epoch) does not fit the wire")
        }
        self.init(
            frontEndpoint: frontEndpoint, frontKey: manifest.frontKey.key, epoch: epoch,
            resultSigner: (role: manifest.resultRole, key: manifest.resultSigner))
    }
}
