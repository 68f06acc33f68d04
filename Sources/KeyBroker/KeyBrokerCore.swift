public import Attestation
public import Foundation
public import Logging
public import Sodium
import Synchronization
import TimeUnits
public import Trust
import Wire

/// The key broker's request handling, without the socket: nonces, attestation against the
/// release policy, key release, epochs, the manifest and the log. The service (or a test)
/// feeds it one request at a time and sends back the reply it returns.
public final class KeyBrokerCore: Sendable {
    /// Stable error codes carried in `KMSStatus.error` (part of the protocol, so in `Trust`).
    public typealias ErrorCode = KMSErrorCode

    /// Check names the broker itself adds to the verifier's (`report-data`, `measurement`, …).
    public enum CheckName {
        public static let unknownRole = "unknown-role"
        public static let nonceUnknown = "nonce-unknown"
        public static let nonceReused = "nonce-reused"
        public static let nonceExpired = "nonce-expired"
        public static let evidence = "evidence"
        public static let ephemeralKey = "ephemeral-key"
        public static let topology = "topology"
    }

    public let configuration: KeyBrokerConfiguration
    public let store: KeyBrokerStore
    /// The policy the broker enforces: the configured one with `reference-build` resolved.
    public let policy: ReleasePolicy
    public let identityPublicKey: SigningPublicKey
    /// What the broker did, for `/metrics`.
    public let metrics = KeyBrokerMetrics()
    private let identity: SigningKeyPair
    private let verifier: any EvidenceVerifier
    private let clock: @Sendable () -> Date
    private let logger: Logger
    private let sampledLog: SampledLog
    private let nonces: Mutex<NonceTable>
    /// Refusals written to the transparency log; the rest are only counted.
    private let refusalEntries = Mutex(
        TokenBucket(capacity: KeyBrokerCore.refusalEntryBurst, perSecond: KeyBrokerCore.refusalEntriesPerSecond))
    /// Serialises epoch rotation so two requests never start the same epoch.
    private let rotation = Mutex(())
    /// Test-only: the report data (and GPU nonce) a request's evidence must carry, in place of the
    /// binding to its nonce, key and role, so fixed public vector reports can exercise the rest
    /// of the release path. Set only through the `internal` initialiser, which production code
    /// cannot reach (only `@testable import` can); nil in every broker the command builds.
    private let testBinding: (@Sendable (AttestRequest) -> (reportData: [UInt8], gpuNonce: [UInt8]?))?

    /// Most nonce records (issued, used or recently expired) held at once; beyond it the broker answers busy.
    public static let maximumOutstandingNonces = 65_536
    /// Most unused, unexpired nonces one peer address may hold; beyond it that peer gets busy.
    public static let maximumNoncesPerPeer = 32
    /// Refusal entries the log takes in a burst, and on average per second after it.
    public static let refusalEntryBurst = 32
    public static let refusalEntriesPerSecond = 0.2
    /// Longest refusal reason written to the log, in UTF-8 bytes.
    public static let maximumReasonBytes = 512
    /// Bytes in every nonce the broker issues.
    public static let nonceByteCount = 32
    /// The peer name used when a request arrives without a network address (in-process callers).
    public static let localPeer = "local"

    /// Opens the broker over `store`: checks the configuration, logs the policy if it is new or
    /// changed, and starts the first (or the due) key epoch.
    public convenience init(
        configuration: KeyBrokerConfiguration, store: KeyBrokerStore, verifier: any EvidenceVerifier,
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "sealpipe.kms")
    ) throws {
        try self.init(
            configuration: configuration, store: store, verifier: verifier, clock: clock, logger: logger,
            testBinding: nil)
    }

    /// The broker with a test binding (see `testBinding`). Internal: reachable from tests only.
    init(
        configuration: KeyBrokerConfiguration, store: KeyBrokerStore, verifier: any EvidenceVerifier,
        clock: @escaping @Sendable () -> Date, logger: Logger,
        testBinding: (@Sendable (AttestRequest) -> (reportData: [UInt8], gpuNonce: [UInt8]?))?
    ) throws {
        self.testBinding = testBinding
        try configuration.validate()
        self.configuration = configuration
        self.store = store
        self.verifier = verifier
        self.clock = clock
        self.logger = logger
        sampledLog = SampledLog(logger: logger)
        let ttl = UInt64(configuration.nonceTTLSeconds * 1000)
        nonces = Mutex(
            NonceTable(
                perPeer: Self.maximumNoncesPerPeer, capacity: Self.maximumOutstandingNonces, ttl: ttl,
                keepAfterExpiry: ttl))
        policy = try configuration.resolvedPolicy()
        identity = try store.identity()
        identityPublicKey = identity.publicKey

        let digest = policy.digest
        let previous = try store.meta("policy-digest") ?? []
        if previous != digest {
            let index = try store.appendPolicyChange(
                .init(
                    time: now, pipelineID: configuration.pipelineID, policy: policy.canonicalBytes,
                    previousPolicyDigest: previous),
                now: now)
            logger.notice(
                "policy logged",
                metadata: ["entry": "\(index)", "digest": "\(Hex.encode(digest))", "change": "\(!previous.isEmpty)"])
        }
        // The keys in force were made under the policy recorded with them. If that is not this
        // policy — changed now, or changed at a start that stopped before revoking — revoke.
        // (A state from before this record revokes only on a change seen now.)
        let epochPolicy = try store.meta(Self.epochPolicyKey)
        let changed = !previous.isEmpty && previous != digest
        if changed || (epochPolicy != nil && epochPolicy != digest), try store.epochs().last != nil {
            try revokeCurrentEpoch()
        } else {
            try rotateIfDue()
        }
        try store.setMeta(Self.epochPolicyKey, digest)
    }

    private var now: UInt64 { KeyBrokerStore.millis(clock()) }

    // MARK: Epochs

    /// Starts a new key epoch if the current one has ended (or none exists yet).
    @discardableResult
    public func rotateIfDue() throws -> EpochRecord {
        try rotate(now: false)
    }

    /// A policy change revokes: a new epoch starts at once, and the epochs before it get no
    /// grace — their keys, released under the old policy, are never released again.
    private func revokeCurrentEpoch() throws {
        let record = try rotate(now: true)
        try store.setMeta(Self.revokedThroughKey, Self.bigEndian(record.epoch - 1))
        logger.notice("policy changed: earlier key epochs revoked", metadata: ["epoch": "\(record.epoch)"])
    }

    /// Epochs up to this one were revoked by a policy change (0: none).
    private func revokedThrough() throws -> UInt64 {
        guard let bytes = try store.meta(Self.revokedThroughKey), bytes.count == 8 else { return 0 }
        return bytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    private static let revokedThroughKey = "revoked-through-epoch"
    /// The digest of the policy under which the current keys were made.
    private static let epochPolicyKey = "epoch-policy-digest"

    private static func bigEndian(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    private func rotate(now startNow: Bool) throws -> EpochRecord {
        try rotation.withLock { _ in
            let now = self.now
            let length = UInt64(configuration.epochSeconds * 1000)
            let latest = try store.epochs().last
            if let latest, now < latest.endsAt, !startNow { return latest }
            let record: EpochRecord
            if let latest, startNow {
                record = EpochRecord(epoch: latest.epoch + 1, startsAt: now, endsAt: now + length)
            } else if let latest {
                let startsAt = latest.endsAt + (now - latest.endsAt) / length * length
                record = EpochRecord(epoch: latest.epoch + 1, startsAt: startsAt, endsAt: startsAt + length)
            } else {
                record = EpochRecord(epoch: 1, startsAt: now, endsAt: now + length)
            }
            try store.beginEpoch(record, roles: configuration.roles.map(\.name), now: now)
            logger.notice("key epoch started", metadata: ["epoch": "\(record.epoch)", "endsAt": "\(record.endsAt)"])
            return record
        }
    }

    /// The current epoch and, while its grace period lasts, the previous one.
    func activeEpochs() throws -> (current: EpochRecord, previous: EpochRecord?) {
        let current = try rotateIfDue()
        let epochs = try store.epochs()
        let grace = UInt64(configuration.graceSeconds * 1000)
        let revoked = try revokedThrough()
        let previous = epochs.last { $0.epoch == current.epoch - 1 }.flatMap {
            now < $0.endsAt + grace && $0.epoch > revoked ? $0 : nil
        }
        return (current, previous)
    }

    // MARK: Requests

    /// Decodes one request from `peer` (its network address), handles it, and encodes the reply;
    /// malformed input gets an error reply and is counted, never logged one line each.
    public func handle(requestBytes: [UInt8], peer: String = KeyBrokerCore.localPeer) -> [UInt8] {
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            metrics.handled(seconds: elapsed.secondsValue)
        }
        let response: KMSResponse
        if requestBytes.count > KMSRequest.maximumEncodedSize {
            response = reject(
                "oversize", code: ErrorCode.malformedRequest,
                "request larger than \(KMSRequest.maximumEncodedSize) bytes")
        } else if let request = try? KMSRequest(decoding: requestBytes) {
            response = handle(request, peer: peer)
        } else {
            response = reject("malformed", code: ErrorCode.malformedRequest, "request is not a KMS request")
        }
        return (try? response.encoded())
            ?? Array(#"{"status":{"error":{"code":2,"message":"could not encode reply"}}}"#.utf8)
    }

    /// Refuses a request that never reached a handler: counted by `reason` (a fixed name), one
    /// sampled warning now and then, never a log entry.
    func reject(_ reason: String, code: Int, _ message: String) -> KMSResponse {
        metrics.rejected(reason: reason)
        sampledLog.warning(reason, "key broker request rejected", now: now)
        return KMSResponse(status: .error(code: code, message: message))
    }

    /// A connection the broker's socket closed (a ZMTP violation, its budget or connection limit,
    /// `BoundedRouter`): counted as a rejection `closed-KIND`, sampled in the log like one.
    func closedConnection(kind: String) {
        metrics.rejected(reason: "closed-\(kind)")
        sampledLog.warning("closed-\(kind)", "key broker closed a connection", now: now)
    }

    /// Expires and forgets nonces that are due; the service calls it while idle.
    public func purgeNonces() {
        let now = self.now
        nonces.withLock { $0.purge(now: now) }
    }

    /// Nonce records held now (for the flood tests' state bound).
    public var nonceRecordCount: Int { nonces.withLock { $0.count } }

    /// Handles one request from `peer`.
    public func handle(_ request: KMSRequest, peer: String = KeyBrokerCore.localPeer) -> KMSResponse {
        do {
            switch request {
            case .nonce(let role):
                return issueNonce(role: role, peer: peer)
            case .attest(let attest):
                return try self.attest(attest)
            case .manifest:
                return KMSResponse(status: .ok, manifest: try manifest())
            case .treeHead:
                guard let head = try store.latestTreeHead() else {
                    return KMSResponse(status: .error(code: ErrorCode.internalError, message: "the log is empty"))
                }
                return KMSResponse(status: .ok, treeHead: head)
            case .inclusionProof(let index, let treeSize):
                return KMSResponse(status: .ok, proof: try store.inclusionProof(index: index, treeSize: treeSize))
            case .consistencyProof(let from, let to):
                return KMSResponse(status: .ok, proof: try store.consistencyProof(from: from, to: to))
            case .entry(let index):
                guard let head = try store.latestTreeHead(), index < head.treeSize,
                    let entry = try store.entry(at: index)
                else {
                    return KMSResponse(
                        status: .error(code: ErrorCode.malformedRequest, message: "no log entry at index \(index)"))
                }
                return KMSResponse(
                    status: .ok, treeHead: head,
                    proof: try store.inclusionProof(index: index, treeSize: head.treeSize), entry: entry)
            }
        } catch let error as MerkleProofError {
            metrics.failed()
            return KMSResponse(status: .error(code: ErrorCode.malformedRequest, message: "\(error)"))
        } catch {
            metrics.failed()
            logger.error("request failed", metadata: ["error": "\(LogText.escaped("\(error)", limit: 256))"])
            return KMSResponse(status: .error(code: ErrorCode.internalError, message: "internal error: \(error)"))
        }
    }

    private func issueNonce(role: String, peer: String) -> KMSResponse {
        guard configuration.role(role) != nil else {
            metrics.refused(check: CheckName.unknownRole)
            sampledLog.warning(
                CheckName.unknownRole, "nonce refused", metadata: ["role": "\(LogText.escaped(role))"], now: now)
            return KMSResponse(
                status: .refused(
                    check: CheckName.unknownRole,
                    reason: "not an attested role of pipeline \(configuration.pipelineID)"))
        }
        let now = self.now
        let nonce = SecureRandom.bytes(Self.nonceByteCount)
        switch nonces.withLock({ $0.issue(nonce, peer: peer, now: now) }) {
        case .issued(let expiresAt):
            metrics.nonceIssued()
            return KMSResponse(status: .ok, nonce: NonceGrant(nonce: nonce, expiresAt: expiresAt))
        case .peerBusy:
            return reject(
                "nonce-peer-quota", code: ErrorCode.busy,
                "this address holds \(Self.maximumNoncesPerPeer) unused nonces; retry later")
        case .full:
            return reject("nonce-table-full", code: ErrorCode.busy, "too many outstanding nonces; retry later")
        }
    }

    /// Marks the nonce used (whatever the outcome) and names what is wrong with it, if anything.
    private func consumeNonce(_ nonce: [UInt8]) -> (check: String, reason: String)? {
        let now = self.now
        switch nonces.withLock({ $0.consume(nonce, now: now) }) {
        case .accepted: return nil
        case .unknown:
            return (CheckName.nonceUnknown, "the nonce was not issued by this broker (or the broker restarted)")
        case .reused: return (CheckName.nonceReused, "the nonce was already used")
        case .expired(let at): return (CheckName.nonceExpired, "the nonce expired at \(at)")
        }
    }

    private func attest(_ request: AttestRequest) throws -> KMSResponse {
        let started = ContinuousClock.now
        let fingerprint = SHA256.hash(request.ephemeralPublicKey.bytes)
        // Only a well-formed request naming a known role can reach the log: anything else is
        // refused, counted and sampled, and leaves no entry.
        guard configuration.role(request.role) != nil, let rolePolicy = policy.roles[request.role] else {
            _ = consumeNonce(request.nonce)
            metrics.refused(check: CheckName.unknownRole)
            sampledLog.warning(
                CheckName.unknownRole, "key release refused", metadata: ["role": "\(LogText.escaped(request.role))"],
                now: now)
            return KMSResponse(
                status: .refused(
                    check: CheckName.unknownRole,
                    reason: "not an attested role of pipeline \(configuration.pipelineID)"))
        }
        guard request.nonce.count == Self.nonceByteCount else {
            metrics.refused(check: CheckName.nonceUnknown)
            sampledLog.warning(CheckName.nonceUnknown, "key release refused", now: now)
            return KMSResponse(
                status: .refused(check: CheckName.nonceUnknown, reason: "a nonce is \(Self.nonceByteCount) bytes"))
        }
        func refuse(_ check: String, _ reason: String) throws -> KMSResponse {
            let check = LogText.clipped(check, maximumBytes: 64)
            let reason = LogText.clipped(reason, maximumBytes: Self.maximumReasonBytes)
            metrics.refused(check: check)
            let now = self.now
            if refusalEntries.withLock({ $0.take(now: now) }) {
                try store.append(
                    .refusal(
                        .init(
                            time: now, role: request.role, check: check, evidenceKind: request.evidence.kind.rawValue,
                            ephemeralKeyFingerprint: fingerprint, reason: reason)),
                    now: now)
            } else {
                metrics.refusalUnlogged()
            }
            sampledLog.warning(
                "refused", "key release refused",
                metadata: ["role": "\(LogText.escaped(request.role))", "check": "\(LogText.escaped(check))"], now: now)
            return KMSResponse(status: .refused(check: check, reason: reason))
        }

        if let problem = consumeNonce(request.nonce) { return try refuse(problem.check, problem.reason) }
        if let expected = configuration.topologyDigest, request.topologyDigest != expected {
            let named = request.topologyDigest.map { "runs topology sha256:\($0)" } ?? "names no topology"
            return try refuse(CheckName.topology, "the node \(named); the policy's topology is sha256:\(expected)")
        }
        // A low-order key would make sealing the bundle fail; refuse it before any work.
        do {
            _ = try X25519.sharedSecret(
                secretKey: BoxKeyPair.generate().secretKey, publicKey: request.ephemeralPublicKey.bytes)
        } catch {
            return try refuse(CheckName.ephemeralKey, "the ephemeral public key is a low-order point")
        }

        var reportData = ReportData.binding(
            nonce: request.nonce, ephemeralPublicKey: request.ephemeralPublicKey.bytes, role: request.role)
        var gpuNonce: [UInt8]?
        if let testBinding {
            // Only tests reach this (see `testBinding`): fixed vector reports carry fixed data.
            (reportData, gpuNonce) = testBinding(request)
        }
        let result: VerificationResult
        switch CompositeVerifier.expectations(
            for: request.evidence, role: rolePolicy, reportData: reportData, gpuNonce: gpuNonce,
            configurationDigest: configuration.configurationDigests?[request.role].flatMap { Hex.decode($0) })
        {
        case .failure(let refusal):
            return try refuse(refusal.name, refusal.detail)
        case .success(var expectations):
            if let hostKeys = configuration.roles.first(where: { $0.name == request.role })?.platformKeys {
                expectations.platformKeys = hostKeys.compactMap { Hex.decode($0.lowercased()) }
            }
            result = verifier.verify(request.evidence, expectations: expectations, now: clock())
        }
        guard result.passed, let claims = result.trustedClaims else {
            let failed = result.failedCheck
            return try refuse(failed?.name ?? CheckName.evidence, failed?.detail ?? "the verifier made no check")
        }

        var bundle = try bundle(for: request.role)
        // Logged before the bundle is sealed: the bundle carries its own release's index, which
        // the role's receipts cite, and the entry names the signing keys those receipts verify
        // under and the model shard the policy lists for the role.
        bundle.shardDigest = rolePolicy.shardDigest.flatMap { Hex.decode($0.lowercased()) } ?? []
        bundle.releaseIndex = try store.append(
            .keyRelease(
                .init(
                    time: now, role: request.role, epoch: bundle.schedule.epoch,
                    evidenceKind: request.evidence.kind.rawValue,
                    measurement: claims.measurement, ephemeralKeyFingerprint: fingerprint,
                    includesWeightKey: bundle.weightKey != nil, policyIndex: try policyEntryIndex(),
                    modelDigest: bundle.shardDigest,
                    signingKeys: Dictionary(
                        uniqueKeysWithValues: bundle.signingKeys.map { ($0.epoch, $0.keyPair.publicKey.bytes) }))),
            now: now)
        let sealed = try bundle.sealed(to: request.ephemeralPublicKey)
        let signature = BundleRelease.sign(
            nonce: request.nonce, ephemeralKey: request.ephemeralPublicKey, sealedBundle: sealed, identity: identity)
        let elapsed = ContinuousClock.now - started
        metrics.released(role: request.role, seconds: elapsed.secondsValue)
        logger.notice(
            "keys released",
            metadata: [
                "role": "\(request.role)", "epoch": "\(bundle.schedule.epoch)", "kind": "\(request.evidence.kind)",
            ])
        return KMSResponse(status: .ok, sealedBundle: sealed, bundleSignature: signature)
    }

    /// The bundle `role` gets: its box and signing keys for the active epochs, the broker's
    /// certificate for its current signing key, its neighbours' public keys for the same
    /// epochs and, for a worker, its own weight key and no other.
    public func bundle(for role: String) throws -> KeyBundle {
        guard let description = configuration.role(role) else { throw KeyBrokerError.unknownRole(role) }
        let (current, previous) = try activeEpochs()
        guard let currentEpoch = UInt32(exactly: current.epoch) else {
            throw KeyBrokerError.storeCorrupt("epoch \(current.epoch) exceeds the wire's 32 bits")
        }
        // An epoch counts only where its box keys are still held (the previous one's may be erased).
        var epochs: [EpochRecord] = []
        var boxKeys: [EpochKeyPair] = []
        var signingKeys: [EpochSigningKeyPair] = []
        for epoch in [current] + (previous.map { [$0] } ?? []) {
            guard let pair = try store.boxKeyPair(role: role, epoch: epoch.epoch) else {
                if epoch == current {
                    throw KeyBrokerError.storeCorrupt("no box key for \(role) in epoch \(epoch.epoch)")
                }
                continue
            }
            epochs.append(epoch)
            boxKeys.append(EpochKeyPair(epoch: epoch.epoch, keyPair: pair))
            let signing = try store.signingKeyPair(role: role, epoch: epoch.epoch)
            signingKeys.append(EpochSigningKeyPair(epoch: epoch.epoch, keyPair: signing))
        }
        var neighbours: [NeighbourKeys] = []
        for name in description.neighbours {
            var keys: [EpochPublicKey] = []
            var signing: [EpochSigningPublicKey] = []
            for epoch in epochs {
                if let pair = try store.boxKeyPair(role: name, epoch: epoch.epoch) {
                    keys.append(EpochPublicKey(epoch: epoch.epoch, key: pair.publicKey))
                    let key = try store.signingKeyPair(role: name, epoch: epoch.epoch).publicKey
                    signing.append(EpochSigningPublicKey(epoch: epoch.epoch, key: key))
                }
            }
            neighbours.append(NeighbourKeys(role: name, signingKeys: signing, boxKeys: keys))
        }
        let grace = UInt64(configuration.graceSeconds * 1000)
        let certificate = RoleCertificate(
            pipelineID: configuration.pipelineID, role: role, epoch: currentEpoch,
            signingKey: signingKeys[0].keyPair.publicKey.bytes, notAfter: current.endsAt + grace
        ).signed(with: identity)
        return KeyBundle(
            role: role, pipelineID: configuration.pipelineID,
            schedule: EpochSchedule(
                epoch: current.epoch, startsAt: current.startsAt, endsAt: current.endsAt, graceMilliseconds: grace),
            boxKeys: boxKeys, signingKeys: signingKeys, neighbours: neighbours,
            weightKey: description.hasWeightShard ? try store.weightKey(role: role) : nil, certificate: certificate)
    }

    /// Index of the policy-change entry in force.
    private func policyEntryIndex() throws -> UInt64 {
        guard let indexBytes = try store.meta("policy-entry-index"), indexBytes.count == 8 else {
            throw KeyBrokerError.storeCorrupt("no policy entry index")
        }
        return indexBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    /// A freshly signed manifest: front key(s), result signer, the policy summary, the policy
    /// entry with its inclusion proof under the latest tree head; it expires after
    /// `manifestTTLSeconds` or at the current epoch's end plus grace, whichever comes first.
    public func manifest() throws -> PipelineManifest {
        let (current, previous) = try activeEpochs()
        guard let front = try store.boxKeyPair(role: configuration.frontRole, epoch: current.epoch) else {
            throw KeyBrokerError.storeCorrupt("no front key for epoch \(current.epoch)")
        }
        let previousFront = try previous.flatMap { epoch in
            try store.boxKeyPair(role: configuration.frontRole, epoch: epoch.epoch).map {
                EpochPublicKey(epoch: epoch.epoch, key: $0.publicKey)
            }
        }
        let index = try policyEntryIndex()
        guard let head = try store.latestTreeHead(), let entry = try store.entry(at: index) else {
            throw KeyBrokerError.storeCorrupt("no tree head or policy entry")
        }
        let proof = try store.inclusionProof(index: index, treeSize: head.treeSize)
        let issuedAt = now
        // A manifest never outlives the front key it names: its epoch's end plus grace.
        let grace = UInt64(configuration.graceSeconds * 1000)
        let expiresAt = min(issuedAt + UInt64(configuration.manifestTTLSeconds * 1000), current.endsAt + grace)
        return PipelineManifest(
            pipelineID: configuration.pipelineID, frontRole: configuration.frontRole,
            frontKey: EpochPublicKey(epoch: current.epoch, key: front.publicKey), previousFrontKey: previousFront,
            resultRole: configuration.resultRole,
            // The result signer follows the epoch: the last stage signs a job's result with the key
            // of the epoch the job was sealed under, this manifest's current one.
            resultSigner: try store.signingKeyPair(role: configuration.resultRole, epoch: current.epoch).publicKey,
            policyDigest: policy.digest,
            policyEntry: entry, policyEntryIndex: index, treeHead: head, policyInclusionProof: proof,
            issuedAt: issuedAt, expiresAt: expiresAt, epochEndsAt: current.endsAt, graceMilliseconds: grace,
            policySummary: RolePolicySummary.summaries(of: policy)
        ).signed(with: identity)
    }
}
