public import Attestation
public import Foundation
public import Sodium
public import Trust
public import ZeroMQ

/// A node's (or client's) connection to the key broker. Every call runs its blocking socket
/// work on a thread of its own and gives up after `timeout`.
public final class KeyBrokerClient: Sendable {
    public let endpoint: String
    public let timeout: Duration
    private let context: ZMQContext

    public init(endpoint: String, context: ZMQContext, timeout: Duration = .seconds(10)) {
        self.endpoint = endpoint
        self.context = context
        self.timeout = timeout
    }

    /// Attests as `role` and returns the released bundle: asks for a nonce, has `provider`
    /// bind `SHA-512(nonce ‖ ephemeral public key ‖ role)` into evidence, presents it, and opens
    /// the bundle with the ephemeral key. A refusal throws `.refused` naming the failed check.
    /// `topologyDigest` names the topology file the node runs (hex SHA-256), for brokers that pin one.
    public func attest(
        role: String, provider: any EvidenceProvider, ephemeral: BoxKeyPair = .generate(), topologyDigest: String? = nil
    ) async throws -> KeyBundle {
        let grant = try await send(.nonce(role: role))
        guard let nonce = grant.nonce?.nonce else {
            throw KeyBrokerClientError.malformedReply("nonce reply without a nonce")
        }
        let reportData = ReportData.binding(nonce: nonce, ephemeralPublicKey: ephemeral.publicKey.bytes, role: role)
        // Collecting evidence may block on the platform (configfs-tsm, a TPM): keep it off the pool.
        let evidence = try await Self.offPool { try provider.collect(reportData: reportData) }
        let reply = try await send(
            .attest(
                AttestRequest(
                    role: role, nonce: nonce, ephemeralPublicKey: ephemeral.publicKey, evidence: evidence,
                    topologyDigest: topologyDigest)))
        guard let sealed = reply.sealedBundle else {
            throw KeyBrokerClientError.malformedReply("attest reply without a bundle")
        }
        let bundle = try KeyBundle.open(sealed, with: ephemeral)
        guard bundle.role == role else {
            throw KeyBrokerClientError.malformedReply("bundle is for role \(bundle.role), asked for \(role)")
        }
        return bundle
    }

    /// The broker's current manifest, unverified (see `fetchVerifiedManifest`).
    public func fetchManifest() async throws -> PipelineManifest {
        guard let manifest = try await send(.manifest).manifest else {
            throw KeyBrokerClientError.malformedReply("manifest reply without a manifest")
        }
        return manifest
    }

    /// Fetches the manifest and verifies it; throws `.manifestRejected` with the report unless every check passed.
    public func fetchVerifiedManifest(
        pinnedBrokerKey: SigningPublicKey, expectedMeasurements: [String: Set<String>]? = nil,
        expectedPolicyDigest: [UInt8]? = nil, now: Date = Date()
    ) async throws -> PipelineManifest {
        let manifest = try await fetchManifest()
        let report = ManifestVerifier.verify(
            manifest, pinnedBrokerKey: pinnedBrokerKey, expectedMeasurements: expectedMeasurements,
            expectedPolicyDigest: expectedPolicyDigest, now: now)
        guard report.isValid else { throw KeyBrokerClientError.manifestRejected(report.failedChecks.map(\.rawValue)) }
        return manifest
    }

    /// The latest signed tree head.
    public func treeHead() async throws -> SignedTreeHead {
        guard let head = try await send(.treeHead).treeHead else {
            throw KeyBrokerClientError.malformedReply("tree-head reply without a tree head")
        }
        return head
    }

    /// Sends one request and returns the broker's reply if its status is ok.
    public func send(_ request: KMSRequest) async throws -> KMSResponse {
        let payload = try request.encoded()
        let reply = try await exchange(payload)
        let response: KMSResponse
        do { response = try KMSResponse(decoding: reply) } catch {
            throw KeyBrokerClientError.malformedReply("reply is not a KMS response")
        }
        switch response.status {
        case .ok: return response
        case .refused(let check, let reason): throw KeyBrokerClientError.refused(check: check, reason: reason)
        case .error(let code, let message): throw KeyBrokerClientError.brokerError(code: code, message: message)
        }
    }

    private func exchange(_ payload: [UInt8]) async throws -> [UInt8] {
        let (endpoint, timeout, context) = (self.endpoint, self.timeout, self.context)
        return try await Self.offPool {
            let socket = try context.socket(.dealer)
            defer { socket.close() }
            try socket.connect(endpoint)
            _ = try socket.send([[], payload])
            guard let frames = try socket.receive(timeout: timeout), let reply = frames.last else {
                throw KeyBrokerClientError.timeout(endpoint: endpoint, after: timeout)
            }
            return reply
        }
    }

    /// Runs blocking work on a thread of its own, never on the Swift concurrency pool.
    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                do { continuation.resume(returning: try work()) } catch { continuation.resume(throwing: error) }
            }
            thread.name = "sealpipe-kms-client"
            thread.start()
        }
    }
}

/// Why a key-broker call failed.
public enum KeyBrokerClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The broker refused; `check` names the check that failed (`measurement`, `nonce-reused`, …).
    case refused(check: String, reason: String)
    case brokerError(code: Int, message: String)
    case timeout(endpoint: String, after: Duration)
    case malformedReply(String)
    /// The manifest failed these checks.
    case manifestRejected([String])

    public var description: String {
        switch self {
        case .refused(let check, let reason): "key broker refused (check \(check)): \(reason)"
        case .brokerError(let code, let message): "key broker error \(code): \(message)"
        case .timeout(let endpoint, let after): "no reply from key broker \(endpoint) within \(after)"
        case .malformedReply(let what): "malformed key broker reply: \(what)"
        case .manifestRejected(let checks): "manifest rejected: failed \(checks.joined(separator: ", "))"
        }
    }
}

extension KeyBrokerClientError {
    /// No answer at all: the broker may still be starting, so trying again makes sense.
    /// A refusal or an error reply is final.
    public var isUnreachable: Bool {
        if case .timeout = self { return true }
        return false
    }
}
