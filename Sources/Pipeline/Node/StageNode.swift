public import Attestation
public import Foundation
import Inference
public import KeyBroker
public import Logging
import Sodium
public import Trust
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

    /// Attests as `role` with simulated-TEE evidence and returns the opened bundle. Retries while
    /// the broker is unreachable (it may still be starting on another host), never after a refusal.
    public static func attest(
        topology: Topology, role: String, platformKey: PlatformKey, context: ZMQContext, logger: Logger,
        attempts: Int = 10
    ) async throws -> KeyBundle {
        guard let configuration = topology.stageConfigurationBytes(role: role), topology.stage(named: role) != nil else {
            throw Failure.unknownRole(role)
        }
        let provider = try SimulatedEvidenceProvider(
            platformKey: platformKey, configuration: configuration, warn: { logger.warning("\($0)") })
        let client = KeyBrokerClient(endpoint: topology.keyBrokerEndpoint.description, context: context, timeout: .seconds(10))
        var attempt = 1
        while true {
            do {
                return try await client.attest(
                    role: role, provider: provider, topologyDigest: Hex.encode(topology.digest))
            } catch let error as KeyBrokerClientError where error.isUnreachable && attempt < attempts {
                logger.warning("key broker not reachable; retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)"])
                try await Task.sleep(for: .milliseconds(200 * attempt))
                attempt += 1
            }
        }
    }

    /// The stage's keys from its bundle: its own epochs, its signing key, its upstream's signing
    /// key (none for the front stage) and its downstream's current box key (none for the last).
    public static func stageKeys(bundle: KeyBundle, topology: Topology, role: String) throws -> StageKeys {
        var boxKeys: [UInt32: BoxKeyPair] = [:]
        for pair in bundle.boxKeys {
            guard let epoch = UInt32(exactly: pair.epoch) else { throw Failure.bundle("epoch \(pair.epoch) exceeds the wire's 32 bits") }
            boxKeys[epoch] = pair.keyPair
        }
        var upstream: (role: String, signingKey: SigningPublicKey)?
        if let previous = topology.previousRole(of: role), topology.stageRoles.contains(previous) {
            guard let neighbour = bundle.neighbour(previous) else { throw Failure.bundle("no keys for upstream role \(previous)") }
            upstream = (previous, neighbour.signingKey)
        }
        var downstream: (role: String, epoch: UInt32, boxKey: BoxPublicKey)?
        if let next = topology.nextRole(of: role), topology.stageRoles.contains(next) {
            guard let neighbour = bundle.neighbour(next),
                let current = neighbour.boxKeys.first(where: { $0.epoch == bundle.schedule.epoch }) ?? neighbour.boxKeys.max(by: { $0.epoch < $1.epoch }),
                let epoch = UInt32(exactly: current.epoch)
            else { throw Failure.bundle("no current box key for downstream role \(next)") }
            downstream = (next, epoch, current.key)
        }
        return StageKeys(role: role, boxKeys: boxKeys, signing: bundle.signingKeys, upstream: upstream, downstream: downstream)
    }

    /// The workload for `stage`: tokenizer, encoder shard (weights from its sealed file), pooling, or echo.
    public static func workload(topology: Topology, stage: StageSpec, bundle: KeyBundle, weightsFile: URL?, logger: Logger) throws
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
                configuration: configuration, tokenizer: try WordPieceTokenizer(directory: directory), weights: weights, threads: 1)
            return PoolingWorkload(model: model)
        case .encoder:
            guard let layers = stage.layers else { throw Failure.bundle("encoder stage \(stage.name) has no layers") }
            guard let key = bundle.weightKey else { throw Failure.bundle("no weight key was released for \(stage.name)") }
            let file = weightsFile ?? ShardWeights.path(for: stage.name, topology: topology)
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw Failure.missingWeights(role: stage.name, path: file.path)
            }
            let configuration = try BertConfiguration(directory: directory)
            let first = topology.stages.first { $0.kind == .encoder }?.name == stage.name
            let started = ContinuousClock.now
            let weights = try ShardWeights.load(
                from: file, role: stage.name, key: key, configuration: configuration, layers: layers, embeddings: first)
            logger.info(
                "opened sealed shard", metadata: ["role": "\(stage.name)", "layers": "\(layers)", "seconds": "\(ContinuousClock.now - started)"])
            let model = try MiniLMModel(
                configuration: configuration, tokenizer: try WordPieceTokenizer(directory: directory), weights: weights,
                threads: stage.threads)
            return EncoderWorkload(model: model, layers: layers)
        }
    }
}
