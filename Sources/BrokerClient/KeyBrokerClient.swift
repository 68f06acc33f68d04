public import Attestation
public import Foundation
public import Sodium
public import Trust
public import ZeroMQ

/// A node's (or client's) connection to the key broker. Every call runs its blocking socket
/// work on a thread of its own and gives up after `timeout`.
///
/// A `busy` answer (the broker's nonce limits) is not final: the request is sent again after a
/// back-off that doubles from `busyBackoff.initial` to `busyBackoff.maximum`, with jitter so
/// nodes turned away together do not return together, for at most `busyBackoff.patience`.
public final class KeyBrokerClient: Sendable {
    /// How long a client keeps retrying `busy`.
    public struct Backoff: Sendable, Hashable {
        public var initial: Duration
        public var maximum: Duration
        public var patience: Duration

        public init(initial: Duration, maximum: Duration, patience: Duration) {
            self.initial = initial
            self.maximum = maximum
            self.patience = patience
        }

        /// 100 ms doubling to 5 s, for up to 5 minutes: longer than a nonce lives, so a peer
        /// flooding the broker cannot outlast a node's patience by holding nonces.
        public static let standard = Backoff(initial: .milliseconds(100), maximum: .seconds(5), patience: .seconds(300))
    }

    public let endpoint: String
    public let timeout: Duration
    public let busyBackoff: Backoff
    private let context: ZMQContext

    public init(
        endpoint: String, context: ZMQContext, timeout: Duration = .seconds(10), busyBackoff: Backoff = .standard
    ) {
        self.endpoint = endpoint
        self.context = context
        self.timeout = timeout
        self.busyBackoff = busyBackoff
    }

    /// Attests as `role` and returns the released bundle: asks for a nonce, has `provider`
    /// bind `SHA-512(nonce ‖ ephemeral public key ‖ role)` into evidence, presents it, checks
    /// the release is signed by `pinnedBrokerKey` (over the nonce, the ephemeral key and the
    /// sealed bundle), opens the bundle with the ephemeral key, and checks its role certificate
    /// was issued by the same broker. A refusal throws `.refused` naming the failed check; a
    /// bundle the pinned broker did not sign throws `.untrustedBundle`. `topologyDigest` names the
    /// topology file the node runs (hex SHA-256), for brokers that pin one. `keyRelease`, if
    /// given, is told how long the key release took: from presenting the evidence to holding the
    /// checked, opened bundle (`sealpipe bench attest`).
    public func attest(
        role: String, provider: any EvidenceProvider, pinnedBrokerKey: SigningPublicKey,
        ephemeral: BoxKeyPair = .generate(), topologyDigest: String? = nil,
        keyRelease: (@Sendable (Duration) -> Void)? = nil
    ) async throws -> KeyBundle {
        let grant = try await send(.nonce(role: role))
        guard let nonce = grant.nonce?.nonce else {
            throw KeyBrokerClientError.malformedReply("nonce reply without a nonce")
        }
        let reportData = ReportData.binding(nonce: nonce, ephemeralPublicKey: ephemeral.publicKey.bytes, role: role)
        // Collecting evidence may block on the platform (configfs-tsm, a TPM): keep it off the pool.
        let evidence = try await BlockingThread.run(name: "sealpipe-kms-client") {
            try provider.collect(reportData: reportData)
        }
        let releaseStart = ContinuousClock.now
        let reply = try await send(
            .attest(
                AttestRequest(
                    role: role, nonce: nonce, ephemeralPublicKey: ephemeral.publicKey, evidence: evidence,
                    topologyDigest: topologyDigest)))
        guard let sealed = reply.sealedBundle else {
            throw KeyBrokerClientError.malformedReply("attest reply without a bundle")
        }
        // Anyone can seal to the ephemeral key: only the pinned broker's signature makes it ours.
        guard let signature = reply.bundleSignature else {
            throw KeyBrokerClientError.untrustedBundle("the key bundle is not signed by the key broker")
        }
        guard
            BundleRelease.isValid(
                signature, nonce: nonce, ephemeralKey: ephemeral.publicKey, sealedBundle: sealed,
                brokerKey: pinnedBrokerKey)
        else {
            throw KeyBrokerClientError.untrustedBundle(
                "the key bundle's signature is not by the pinned key broker \(pinnedBrokerKey.fingerprint) "
                    + "for this request")
        }
        let bundle = try KeyBundle.open(sealed, with: ephemeral)
        guard bundle.role == role else {
            throw KeyBrokerClientError.malformedReply("bundle is for role \(bundle.role), asked for \(role)")
        }
        if let problem = bundle.certificateProblem(pinnedBrokerKey: pinnedBrokerKey) {
            throw KeyBrokerClientError.untrustedBundle(problem)
        }
        keyRelease?(ContinuousClock.now - releaseStart)
        return bundle
    }

    /// The broker's current manifest, unverified (see `fetchVerifiedManifest`).
    public func fetchManifest() async throws -> PipelineManifest {
        guard let manifest = try await send(.manifest).manifest else {
            throw KeyBrokerClientError.malformedReply("manifest reply without a manifest")
        }
        return manifest
    }

    /// The broker's current manifest, unverified, asked for on the calling thread: for callers
    /// that already block on a thread of their own (the client library's synchronous target
    /// refresh, `sealpipe submit`). One try, no `busy` back-off: manifests cost the broker no nonce.
    public func fetchManifestWaiting() throws -> PipelineManifest {
        let reply = try Self.exchangeWaiting(
            try KMSRequest.manifest.encoded(), endpoint: endpoint, timeout: timeout, context: context)
        guard let manifest = try Self.response(to: reply).manifest else {
            throw KeyBrokerClientError.malformedReply("manifest reply without a manifest")
        }
        return manifest
    }

    /// The log entry at `index`, proven (`ProvenEntry`) to lie in a tree head signed by
    /// `brokerKey`; asked for on the calling thread, like `fetchManifestWaiting`.
    public func provenEntryWaiting(at index: UInt64, brokerKey: SigningPublicKey) throws -> [UInt8] {
        let reply = try Self.exchangeWaiting(
            try KMSRequest.entry(index: index).encoded(), endpoint: endpoint, timeout: timeout, context: context)
        let response = try Self.response(to: reply)
        guard let entry = response.entry, let head = response.treeHead, let proof = response.proof else {
            throw KeyBrokerClientError.malformedReply("entry reply without an entry, tree head and proof")
        }
        return try ProvenEntry.check(entry: entry, index: index, head: head, proof: proof, brokerKey: brokerKey)
    }

    /// Fetches the manifest and verifies it; throws `.manifestRejected` with the report unless every check passed.
    /// A policy that accepts simulated evidence for any role is refused unless `allowSimulated`.
    public func fetchVerifiedManifest(
        pinnedBrokerKey: SigningPublicKey, expectedMeasurements: [String: Set<String>]? = nil,
        expectedPolicyDigest: [UInt8]? = nil, allowSimulated: Bool = false, now: Date = Date()
    ) async throws -> PipelineManifest {
        let manifest = try await fetchManifest()
        do {
            try Self.verify(
                manifest, pinnedBrokerKey: pinnedBrokerKey, expectedMeasurements: expectedMeasurements,
                expectedPolicyDigest: expectedPolicyDigest, allowSimulated: allowSimulated, now: now)
        } catch {
            throw KeyBrokerClientError.manifestRejected(error.report.failedChecks.map(\.rawValue))
        }
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
        _ manifest: PipelineManifest, pinnedBrokerKey: SigningPublicKey,
        expectedMeasurements: [String: Set<String>]? = nil, expectedPolicyDigest: [UInt8]? = nil,
        allowSimulated: Bool = false, now: Date = Date()
    ) throws(ManifestRejection) -> ManifestVerificationReport {
        let report = ManifestVerifier.verify(
            manifest, pinnedBrokerKey: pinnedBrokerKey, expectedMeasurements: expectedMeasurements,
            expectedPolicyDigest: expectedPolicyDigest, allowSimulated: allowSimulated, now: now)
        guard report.isValid else { throw ManifestRejection(report: report) }
        return report
    }

    /// The latest signed tree head.
    public func treeHead() async throws -> SignedTreeHead {
        guard let head = try await send(.treeHead).treeHead else {
            throw KeyBrokerClientError.malformedReply("tree-head reply without a tree head")
        }
        return head
    }

    /// Sends one request and returns the broker's reply if its status is ok; retries `busy`
    /// with back-off (see `busyBackoff`), then throws the last `busy` error.
    public func send(_ request: KMSRequest) async throws -> KMSResponse {
        let payload = try request.encoded()
        let started = ContinuousClock.now
        var delay = busyBackoff.initial
        while true {
            do {
                return try await sendOnce(payload)
            } catch let error as KeyBrokerClientError where error.isBusy {
                let waited = ContinuousClock.now - started
                guard waited + delay <= busyBackoff.patience else { throw error }
                // Full jitter between half the delay and the delay.
                let jittered = delay / 2 + .nanoseconds(Int64.random(in: 0...Int64(delay / .nanoseconds(2))))
                try await Task.sleep(for: jittered)
                delay = min(delay * 2, busyBackoff.maximum)
            }
        }
    }

    private func sendOnce(_ payload: [UInt8]) async throws -> KMSResponse {
        try Self.response(to: try await exchange(payload))
    }

    /// The broker's reply if its status is ok; a refusal or an error reply throws.
    private static func response(to reply: [UInt8]) throws -> KMSResponse {
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
        return try await BlockingThread.run(name: "sealpipe-kms-client") {
            try Self.exchangeWaiting(payload, endpoint: endpoint, timeout: timeout, context: context)
        }
    }

    /// One request and its reply, blocking the calling thread for at most `timeout`.
    private static func exchangeWaiting(
        _ payload: [UInt8], endpoint: String, timeout: Duration, context: ZMQContext
    ) throws -> [UInt8] {
        let socket = try context.socket(.dealer)
        defer { socket.close() }
        try socket.connect(endpoint)
        // A DEALER speaks to the broker's ROUTER like a REQ: an empty delimiter, then the request.
        _ = try socket.send([[], payload])
        guard let frames = try socket.receive(timeout: timeout), let reply = frames.last else {
            throw KeyBrokerClientError.timeout(endpoint: endpoint, after: timeout)
        }
        return reply
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
    /// A key bundle the pinned broker did not sign (or whose certificate it did not issue).
    case untrustedBundle(String)

    public var description: String {
        switch self {
        case .refused(let check, let reason): "key broker refused (check \(check)): \(reason)"
        case .brokerError(let code, let message): "key broker error \(code): \(message)"
        case .timeout(let endpoint, let after): "no reply from key broker \(endpoint) within \(after)"
        case .malformedReply(let what): "malformed key broker reply: \(what)"
        case .manifestRejected(let checks): "manifest rejected: failed \(checks.joined(separator: ", "))"
        case .untrustedBundle(let reason): "key bundle refused: \(reason)"
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

    /// The broker was too busy to take the request (its nonce limits); trying later makes sense.
    public var isBusy: Bool {
        if case .brokerError(let code, _) = self { return code == KMSErrorCode.busy }
        return false
    }

    /// Unreachable or busy: a node should try again rather than exit (and be counted as a crash).
    public var isWorthRetrying: Bool { isUnreachable || isBusy }
}

/// The key broker's log as a live broker serves it, each entry proven against the pinned broker
/// key when fetched (and kept, so a batch of receipts citing the same release costs one fetch).
public final class BrokerLog: ProvenLog {
    private let client: KeyBrokerClient
    private let brokerKey: SigningPublicKey
    private var fetched: [UInt64: [UInt8]] = [:]

    public init(client: KeyBrokerClient, brokerKey: SigningPublicKey) {
        self.client = client
        self.brokerKey = brokerKey
    }

    public func entry(at index: UInt64) throws -> [UInt8] {
        if let entry = fetched[index] { return entry }
        let entry = try client.provenEntryWaiting(at: index, brokerKey: brokerKey)
        fetched[index] = entry
        return entry
    }
}
