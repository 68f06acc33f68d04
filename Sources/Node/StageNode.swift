import Attestation
import BrokerClient
public import Foundation
import Inference
public import Logging
public import Sodium
public import StageRuntime
public import Topology
public import Trust
import Workloads
public import ZeroMQ

/// What `sealpipe node` does before it serves: attest to the key broker, turn the released
/// bundle into stage keys, and build the stage's workload (opening a worker's sealed shard).
public enum StageNode {
    public enum Failure: Error, CustomStringConvertible {
        case unknownRole(String)
        case bundle(String)
        case missingWeights(role: String, path: String)

        public var description: String {
            switch self {
            case .unknownRole(let role): "role \"\(role)\" is not a stage of this topology"
            case .bundle(let reason): "the key bundle is unusable: \(reason)"
            case .missingWeights(let role, let path):
                "no sealed weights for \(role) at \(path); run `sealpipe model seal --topology …` (launch does it)"
            }
        }
    }

    /// Attests as `role` and returns the opened bundle, refusing one that `pinnedBrokerKey` did
    /// not sign. The evidence is the best kind the role's policy accepts that this host can
    /// produce (`NodeEvidence`); the measured configuration covers the topology's settings for
    /// the role and `modelFileDigests`, the contents of the model files it loaded. Retries while
    /// the broker is unreachable or busy (it may still be starting on another host), never
    /// after a refusal.
    public static func attest(
        topology: Topology, role: String, modelFileDigests: [String: String], platformKeyFile: URL,
        pinnedBrokerKey: SigningPublicKey, context: ZMQContext, logger: Logger, attempts: Int = 10
    ) async throws -> KeyBundle {
        guard topology.stage(named: role) != nil, let policy = topology.releasePolicy.roles[role],
            let configuration = topology.stageConfigurationBytes(role: role, modelFileDigests: modelFileDigests)
        else {
            throw Failure.unknownRole(role)
        }
        let provider = try NodeEvidence.provider(
            role: role, policy: policy, measuredConfiguration: configuration, platformKeyFile: platformKeyFile,
            warn: { logger.warning("\($0)") })
        logger.info("collecting evidence", metadata: ["role": "\(role)", "kind": "\(provider.kind)"])
        let client = KeyBrokerClient(
            endpoint: topology.keyBrokerEndpoint.description, context: context, timeout: .seconds(10))
        var attempt = 1
        while true {
            do {
                return try await client.attest(
                    role: role, provider: provider, pinnedBrokerKey: pinnedBrokerKey,
                    topologyDigest: Hex.encode(topology.digest))
            } catch let error as KeyBrokerClientError where error.isWorthRetrying && attempt < attempts {
                logger.warning(
                    "key broker unreachable or busy; retrying",
                    metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200 * attempt))
                attempt += 1
            }
        }
    }

    /// The stage's keys from its bundle, by epoch: its own box and signing keys, its upstream's
    /// signing keys (none for the front stage) and its downstream's box keys (none for the
    /// last), with the broker's certificate for its current signing key.
    public static func stageKeys(bundle: KeyBundle, topology: Topology, role: String) throws -> StageKeys {
        func epoch32(_ epoch: UInt64) throws -> UInt32 {
            guard let epoch = UInt32(exactly: epoch) else {
                throw Failure.bundle("epoch \(epoch) exceeds the wire's 32 bits")
            }
            return epoch
        }
        var boxKeys: [UInt32: BoxKeyPair] = [:]
        for pair in bundle.boxKeys { boxKeys[try epoch32(pair.epoch)] = pair.keyPair }
        var signing: [UInt32: SigningKeyPair] = [:]
        for pair in bundle.signingKeys { signing[try epoch32(pair.epoch)] = pair.keyPair }
        guard let current = UInt32(exactly: bundle.schedule.epoch), boxKeys[current] != nil, signing[current] != nil
        else {
            throw Failure.bundle("no box or signing key for the current epoch \(bundle.schedule.epoch)")
        }
        var upstream: (role: String, signingKeys: [UInt32: SigningPublicKey])?
        if let previous = topology.previousRole(of: role), topology.stageRoles.contains(previous) {
            guard let neighbour = bundle.neighbour(previous) else {
                throw Failure.bundle("no keys for upstream role \(previous)")
            }
            var keys: [UInt32: SigningPublicKey] = [:]
            for key in neighbour.signingKeys { keys[try epoch32(key.epoch)] = key.key }
            guard keys[current] != nil else {
                throw Failure.bundle("no current signing key for upstream role \(previous)")
            }
            upstream = (previous, keys)
        }
        var downstream: (role: String, boxKeys: [UInt32: BoxPublicKey])?
        if let next = topology.nextRole(of: role), topology.stageRoles.contains(next) {
            guard let neighbour = bundle.neighbour(next) else {
                throw Failure.bundle("no keys for downstream role \(next)")
            }
            var keys: [UInt32: BoxPublicKey] = [:]
            for key in neighbour.boxKeys { keys[try epoch32(key.epoch)] = key.key }
            guard keys[current] != nil else { throw Failure.bundle("no current box key for downstream role \(next)") }
            downstream = (next, keys)
        }
        guard let position = topology.stageRoles.firstIndex(of: role).flatMap({ UInt16(exactly: $0) }) else {
            throw Failure.unknownRole(role)
        }
        return StageKeys(
            role: role, position: position, boxKeys: boxKeys, signing: signing, certificate: bundle.certificate,
            upstream: upstream, downstream: downstream,
            receiptContext: .init(
                pipelineID: bundle.pipelineID, releaseIndex: bundle.releaseIndex, shardDigest: bundle.shardDigest))
    }

    /// The workload for `stage`: tokenizer, encoder shard (weights from its sealed file), pooling, or echo.
    public static func workload(
        topology: Topology, stage: StageSpec, bundle: KeyBundle, weightsFile: URL?, logger: Logger
    ) throws
        -> any StageWorkload
    {
        if stage.kind == .echo { return EchoWorkload() }
        guard let path = topology.model.directory else { throw Failure.bundle("the topology's model has no directory") }
        let directory = URL(fileURLWithPath: path)
        switch stage.kind {
        case .echo:
            return EchoWorkload()
        case .tokenizer:
            return TokenizerWorkload(tokenizer: try WordPieceTokenizer(directory: directory))
        case .pooling:
            let configuration = try BertConfiguration(directory: directory)
            let weights = try ModelWeights(
                configuration: configuration, provider: [String: FloatTensor](), layers: 0..<0, embeddings: false)
            let model = try MiniLMModel(
                configuration: configuration, tokenizer: try WordPieceTokenizer(directory: directory), weights: weights,
                threads: 1)
            return PoolingWorkload(model: model)
        case .encoder:
            guard let layers = stage.layers else { throw Failure.bundle("encoder stage \(stage.name) has no layers") }
            guard let key = bundle.weightKey else {
                throw Failure.bundle("no weight key was released for \(stage.name)")
            }
            let file = weightsFile ?? ShardWeights.path(for: stage.name, topology: topology)
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw Failure.missingWeights(role: stage.name, path: file.path)
            }
            let configuration = try BertConfiguration(directory: directory)
            let first = topology.stages.first { $0.kind == .encoder }?.name == stage.name
            let started = ContinuousClock.now
            let weights = try ShardWeights.load(
                from: file, role: stage.name, key: key, expectedDigest: bundle.shardDigest,
                configuration: configuration, layers: layers, embeddings: first)
            logger.info(
                "opened sealed shard",
                metadata: [
                    "role": "\(stage.name)", "layers": "\(layers)", "seconds": "\(ContinuousClock.now - started)",
                ])
            let precision: Precision =
                switch stage.precision {
                case .fp32: .fp32
                case .int8: .int8
                }
            let model = try MiniLMModel(
                configuration: configuration, tokenizer: try WordPieceTokenizer(directory: directory), weights: weights,
                threads: stage.threads, precision: precision)
            return EncoderWorkload(model: model, layers: layers)
        }
    }
}
