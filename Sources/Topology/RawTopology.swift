import Attestation

/// The topology file exactly as written: every field optional and loosely typed (durations and
/// sizes as text), so that the resolver can apply defaults and report every problem with its
/// place. Nothing outside this module sees these types.
struct RawTopology: Decodable {
    var name: String?
    var model: RawModel?
    var hosts: [String: Lenient<RawHost>]?
    var kms: RawKeyBroker?
    var gateway: RawGateway?
    var metrics: RawMetrics?
    var stages: [Lenient<RawStage>]?

    enum Keys: String, CodingKey, CaseIterable { case name, model, hosts, kms, gateway, metrics, stages }

    init(from decoder: any Decoder) throws {
        let read = try FieldReader(decoder, keys: Keys.self)
        name = read(.name)
        model = read(.model)
        hosts = read(.hosts)
        kms = read(.kms)
        gateway = read(.gateway)
        metrics = read(.metrics)
        stages = read(.stages)
    }

    struct RawModel: Decodable {
        var kind: String?
        var directory: String?
        var layers: Int?

        enum Keys: String, CodingKey, CaseIterable { case kind, directory, layers }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            kind = read(.kind)
            directory = read(.directory)
            layers = read(.layers)
        }
    }

    struct RawHost: Decodable {
        var address: String?
        var platformKey: String?

        enum Keys: String, CodingKey, CaseIterable { case address, platformKey }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            address = read(.address)
            platformKey = read(.platformKey)
        }
    }

    struct RawKeyBroker: Decodable {
        var host: String?
        var endpoint: String?
        var state: String?
        var rootKey: String?
        var platformKeys: [String]?
        var rotation: RawRotation?
        var manifestTTL: String?
        var policy: RawPolicy?
        var metrics: String?
        var collateral: String?

        enum Keys: String, CodingKey, CaseIterable {
            case host, endpoint, state, rootKey, platformKeys, rotation, manifestTTL, policy, metrics, collateral
        }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            host = read(.host)
            endpoint = read(.endpoint)
            state = read(.state)
            rootKey = read(.rootKey)
            platformKeys = read(.platformKeys)
            rotation = read(.rotation)
            manifestTTL = read(.manifestTTL)
            policy = read(.policy)
            metrics = read(.metrics)
            collateral = read(.collateral)
        }
    }

    struct RawRotation: Decodable {
        var epoch: String?
        var grace: String?

        enum Keys: String, CodingKey, CaseIterable { case epoch, grace }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            epoch = read(.epoch)
            grace = read(.grace)
        }
    }

    struct RawPolicy: Decodable {
        var defaults: RawRolePolicy?
        var roles: [String: RawRolePolicy]?

        enum Keys: String, CodingKey, CaseIterable {
            case defaults = "default"
            case roles
        }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            defaults = read(.defaults)
            roles = read(.roles)
        }
    }

    /// A role's policy: each accepted evidence kind with its own constraints.
    struct RawRolePolicy: Decodable {
        var evidence: [String: Lenient<RawEvidencePolicy>]?

        enum Keys: String, CodingKey, CaseIterable { case evidence }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            evidence = read(.evidence)
        }
    }

    /// What evidence of one kind must show; which fields may appear depends on the kind.
    struct RawEvidencePolicy: Decodable {
        var measurements: [String]?
        var allowDebug: Bool?
        var minimumTCB: UInt64?
        var vmpl: Int?
        var sevSNP: SEVSNPPolicy?
        var tdx: TDXPolicy?
        var nvidiaGPU: NVIDIAGPUPolicy?

        enum Keys: String, CodingKey, CaseIterable {
            case measurements, allowDebug, minimumTCB, vmpl, sevSNP, tdx, nvidiaGPU
        }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            measurements = read(.measurements)
            allowDebug = read(.allowDebug)
            minimumTCB = read(.minimumTCB)
            vmpl = read(.vmpl)
            sevSNP = read(.sevSNP)
            tdx = read(.tdx)
            nvidiaGPU = read(.nvidiaGPU)
        }
    }

    struct RawGateway: Decodable {
        var host: String?
        var front: String?
        var backend: String?
        var maxInFlight: Int?
        var maxPayload: String?
        var deadline: String?
        var maxDeadline: String?
        var heartbeat: RawHeartbeat?
        var maxAttempts: Int?
        var metrics: String?

        enum Keys: String, CodingKey, CaseIterable {
            case host, front, backend, maxInFlight, maxPayload, deadline, maxDeadline, heartbeat, maxAttempts, metrics
        }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            host = read(.host)
            front = read(.front)
            backend = read(.backend)
            maxInFlight = read(.maxInFlight)
            maxPayload = read(.maxPayload)
            deadline = read(.deadline)
            maxDeadline = read(.maxDeadline)
            heartbeat = read(.heartbeat)
            maxAttempts = read(.maxAttempts)
            metrics = read(.metrics)
        }
    }

    struct RawHeartbeat: Decodable {
        var interval: String?
        var timeout: String?

        enum Keys: String, CodingKey, CaseIterable { case interval, timeout }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            interval = read(.interval)
            timeout = read(.timeout)
        }
    }

    struct RawMetrics: Decodable {
        var basePort: Int?

        enum Keys: String, CodingKey, CaseIterable { case basePort }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            basePort = read(.basePort)
        }
    }

    struct RawStage: Decodable {
        var name: String?
        var kind: String?
        var host: String?
        var replicas: Int?
        var layers: [Int]?
        var batching: RawBatching?
        var queue: Int?
        var threads: Int?
        var metrics: String?

        enum Keys: String, CodingKey, CaseIterable {
            case name, kind, host, replicas, layers, batching, queue, threads, metrics
        }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            name = read(.name)
            kind = read(.kind)
            host = read(.host)
            replicas = read(.replicas)
            layers = read(.layers)
            batching = read(.batching)
            queue = read(.queue)
            threads = read(.threads)
            metrics = read(.metrics)
        }
    }

    struct RawBatching: Decodable {
        var maxBatch: Int?
        var maxDelay: String?

        enum Keys: String, CodingKey, CaseIterable { case maxBatch, maxDelay }

        init(from decoder: any Decoder) throws {
            let read = try FieldReader(decoder, keys: Keys.self)
            maxBatch = read(.maxBatch)
            maxDelay = read(.maxDelay)
        }
    }
}
