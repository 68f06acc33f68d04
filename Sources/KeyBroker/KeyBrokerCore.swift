public import Attestation
public import Foundation
public import Logging
public import Sodium
import Synchronization
public import Trust

/// The key broker's request handling, without the socket: nonces, attestation against the
/// release policy, key release, epochs, the manifest and the log. The service (or a test)
/// feeds it one request at a time and sends back the reply it returns.
public final class KeyBrokerCore: Sendable {
    /// Stable error codes carried in `KMSStatus.error`.
    public enum ErrorCode {
        public static let malformedRequest = 1
        public static let internalError = 2
        public static let busy = 3
    }

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
    private let nonces = Mutex([[UInt8]: NonceState]())
    /// Serialises epoch rotation so two requests never start the same epoch.
    private let rotation = Mutex(())

    private struct NonceState {
        var expiresAt: UInt64
        var used: Bool
    }

    /// Most outstanding nonces held at once; beyond it the broker answers busy.
    public static let maximumOutstandingNonces = 100_000

    /// Opens the broker over `store`: checks the configuration, logs the policy if it is new or
    /// changed, and starts the first (or the due) key epoch.
    public init(
        configuration: KeyBrokerConfiguration, store: KeyBrokerStore, verifier: any EvidenceVerifier,
        clock: @escaping @Sendable () -> Date = { Date() }, logger: Logger = Logger(label: "sealpipe.kms")
    ) throws {
        try configuration.validate()
        self.configuration = configuration
        self.store = store
        self.verifier = verifier
        self.clock = clock
        self.logger = logger
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
        for role in configuration.roles { _ = try store.signingKeyPair(role: role.name) }
        try rotateIfDue()
    }

    private var now: UInt64 { KeyBrokerStore.millis(clock()) }

    // MARK: Epochs

    /// Starts a new key epoch if the current one has ended (or none exists yet).
    @discardableResult
    public func rotateIfDue() throws -> EpochRecord {
        try rotation.withLock { _ in
            let now = self.now
            let length = UInt64(configuration.epochSeconds * 1000)
            let latest = try store.epochs().last
            if let latest, now < latest.endsAt { return latest }
            let record: EpochRecord
            if let latest {
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
        let previous = epochs.last { $0.epoch == current.epoch - 1 }.flatMap { now < $0.endsAt + grace ? $0 : nil }
        return (current, previous)
    }

    // MARK: Requests

    /// Decodes one request, handles it, and encodes the reply; malformed input gets an error reply.
    public func handle(requestBytes: [UInt8]) -> [UInt8] {
        let started = ContinuousClock.now
        defer {
            let elapsed = ContinuousClock.now - started
            metrics.handled(seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        let response: KMSResponse
        if requestBytes.count > KMSRequest.maximumEncodedSize {
            response = KMSResponse(
                status: .error(
                    code: ErrorCode.malformedRequest,
                    message: "request larger than \(KMSRequest.maximumEncodedSize) bytes"))
        } else if let request = try? KMSRequest(decoding: requestBytes) {
            response = handle(request)
        } else {
            response = KMSResponse(
                status: .error(code: ErrorCode.malformedRequest, message: "request is not a KMS request"))
        }
        return (try? response.encoded())
            ?? Array(#"{"status":{"error":{"code":2,"message":"could not encode reply"}}}"#.utf8)
    }

    /// Handles one request.
    public func handle(_ request: KMSRequest) -> KMSResponse {
        do {
            switch request {
            case .nonce(let role):
                return issueNonce(role: role)
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
                let tree = try store.merkleTree()
                return KMSResponse(
                    status: .ok,
                    proof: try tree.inclusionProof(index: Int(clamping: index), size: Int(clamping: treeSize)))
            case .consistencyProof(let from, let to):
                let tree = try store.merkleTree()
                return KMSResponse(
                    status: .ok, proof: try tree.consistencyProof(from: Int(clamping: from), to: Int(clamping: to)))
            }
        } catch let error as MerkleProofError {
            metrics.failed()
            return KMSResponse(status: .error(code: ErrorCode.malformedRequest, message: "\(error)"))
        } catch {
            metrics.failed()
            logger.error("request failed", metadata: ["error": "\(error)"])
            return KMSResponse(status: .error(code: ErrorCode.internalError, message: "internal error: \(error)"))
        }
    }

    private func issueNonce(role: String) -> KMSResponse {
        let now = self.now
        let ttl = UInt64(configuration.nonceTTLSeconds * 1000)
        let nonce = SecureRandom.bytes(32)
        let accepted = nonces.withLock { table -> Bool in
            if table.count >= Self.maximumOutstandingNonces {
                // Keep used and expired nonces one extra TTL so a replay is named as such.
                table = table.filter { $0.value.expiresAt + ttl > now }
            }
            guard table.count < Self.maximumOutstandingNonces else { return false }
            table[nonce] = NonceState(expiresAt: now + ttl, used: false)
            return true
        }
        guard accepted else {
            metrics.failed()
            return KMSResponse(
                status: .error(code: ErrorCode.busy, message: "too many outstanding nonces; retry later"))
        }
        metrics.nonceIssued()
        return KMSResponse(status: .ok, nonce: NonceGrant(nonce: nonce, expiresAt: now + ttl))
    }

    /// Marks the nonce used (whatever the outcome) and names what is wrong with it, if anything.
    private func consumeNonce(_ nonce: [UInt8]) -> (check: String, reason: String)? {
        let now = self.now
        return nonces.withLock { table in
            guard var state = table[nonce] else {
                return (CheckName.nonceUnknown, "the nonce was not issued by this broker (or the broker restarted)")
            }
            if state.used { return (CheckName.nonceReused, "the nonce was already used") }
            state.used = true
            table[nonce] = state
            if now >= state.expiresAt { return (CheckName.nonceExpired, "the nonce expired at \(state.expiresAt)") }
            return nil
        }
    }

    private func attest(_ request: AttestRequest) throws -> KMSResponse {
        let started = ContinuousClock.now
        let fingerprint = SHA256.hash(request.ephemeralPublicKey.bytes)
        func refuse(_ check: String, _ reason: String) throws -> KMSResponse {
            try store.append(
                .refusal(
                    .init(
                        time: now, role: request.role, check: check, evidenceKind: request.evidence.kind.rawValue,
                        ephemeralKeyFingerprint: fingerprint, reason: reason)),
                now: now)
            metrics.refused(check: check)
            logger.warning("key release refused", metadata: ["role": "\(request.role)", "check": "\(check)"])
            return KMSResponse(status: .refused(check: check, reason: reason))
        }

        guard configuration.role(request.role) != nil, let rolePolicy = policy.roles[request.role] else {
            _ = consumeNonce(request.nonce)
            return try refuse(
                CheckName.unknownRole,
                "role \(request.role) is not an attested role of pipeline \(configuration.pipelineID)")
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

        let measurements = rolePolicy.measurements.compactMap { Hex.decode($0) }
        let expectations = Expectations(
            reportData: ReportData.binding(
                nonce: request.nonce, ephemeralPublicKey: request.ephemeralPublicKey.bytes, role: request.role),
            policy: rolePolicy, measurements: measurements)
        let result = verifier.verify(request.evidence, expectations: expectations, now: clock())
        guard result.passed, let claims = result.trustedClaims else {
            let failed = result.failedCheck
            return try refuse(failed?.name ?? CheckName.evidence, failed?.detail ?? "the verifier made no check")
        }

        let bundle = try bundle(for: request.role)
        let sealed = try bundle.sealed(to: request.ephemeralPublicKey)
        try store.append(
            .keyRelease(
                .init(
                    time: now, role: request.role, epoch: bundle.schedule.epoch,
                    evidenceKind: request.evidence.kind.rawValue,
                    measurement: claims.measurement, ephemeralKeyFingerprint: fingerprint,
                    includesWeightKey: bundle.weightKey != nil)),
            now: now)
        let elapsed = ContinuousClock.now - started
        metrics.released(role: request.role, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        logger.notice(
            "keys released",
            metadata: [
                "role": "\(request.role)", "epoch": "\(bundle.schedule.epoch)", "kind": "\(request.evidence.kind)",
            ])
        return KMSResponse(status: .ok, sealedBundle: sealed)
    }

    /// The bundle `role` gets: its box keys for the active epochs, its signing key, its
    /// neighbours' public keys and, for a worker, its own weight key and no other.
    public func bundle(for role: String) throws -> KeyBundle {
        guard let description = configuration.role(role) else { throw KeyBrokerError.unknownRole(role) }
        let (current, previous) = try activeEpochs()
        let epochs = [current] + (previous.map { [$0] } ?? [])
        var boxKeys: [EpochKeyPair] = []
        for epoch in epochs {
            guard let pair = try store.boxKeyPair(role: role, epoch: epoch.epoch) else {
                if epoch == current {
                    throw KeyBrokerError.storeCorrupt("no box key for \(role) in epoch \(epoch.epoch)")
                }
                continue
            }
            boxKeys.append(EpochKeyPair(epoch: epoch.epoch, keyPair: pair))
        }
        var neighbours: [NeighbourKeys] = []
        for name in description.neighbours {
            var keys: [EpochPublicKey] = []
            for epoch in epochs {
                if let pair = try store.boxKeyPair(role: name, epoch: epoch.epoch) {
                    keys.append(EpochPublicKey(epoch: epoch.epoch, key: pair.publicKey))
                }
            }
            neighbours.append(
                NeighbourKeys(role: name, signingKey: try store.signingKeyPair(role: name).publicKey, boxKeys: keys))
        }
        return KeyBundle(
            role: role, pipelineID: configuration.pipelineID,
            schedule: EpochSchedule(
                epoch: current.epoch, startsAt: current.startsAt, endsAt: current.endsAt,
                graceMilliseconds: UInt64(configuration.graceSeconds * 1000)),
            boxKeys: boxKeys, signingKeys: try store.signingKeyPair(role: role), neighbours: neighbours,
            weightKey: description.hasWeightShard ? try store.weightKey(role: role) : nil)
    }

    /// A freshly signed manifest: front key(s), result signer, the policy entry with its
    /// inclusion proof under the latest tree head.
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
        guard let indexBytes = try store.meta("policy-entry-index"), indexBytes.count == 8 else {
            throw KeyBrokerError.storeCorrupt("no policy entry index")
        }
        let index = indexBytes.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard let head = try store.latestTreeHead(), let entry = try store.entry(at: index) else {
            throw KeyBrokerError.storeCorrupt("no tree head or policy entry")
        }
        let tree = try store.merkleTree()
        let proof = try tree.inclusionProof(index: Int(index), size: Int(head.treeSize))
        let issuedAt = now
        return PipelineManifest(
            pipelineID: configuration.pipelineID, frontRole: configuration.frontRole,
            frontKey: EpochPublicKey(epoch: current.epoch, key: front.publicKey), previousFrontKey: previousFront,
            resultRole: configuration.resultRole,
            resultSigner: try store.signingKeyPair(role: configuration.resultRole).publicKey,
            policyDigest: policy.digest,
            policyEntry: entry, policyEntryIndex: index, treeHead: head, policyInclusionProof: proof,
            issuedAt: issuedAt,
            expiresAt: issuedAt + UInt64(configuration.manifestTTLSeconds * 1000)
        ).signed(with: identity)
    }
}
