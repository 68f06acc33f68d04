import Attestation

/// The topology file exactly as written: every field optional and loosely typed (durations and
/// sizes as text), so that the resolver can apply defaults and report every problem with its
/// place. Nothing outside this module sees these types.
struct RawTopology: LenientRecord {
    var name: String?
    var model: RawModel?
    var hosts: [String: Lenient<RawHost>]?
    var kms: RawKeyBroker?
    var gateway: RawGateway?
    var metrics: RawMetrics?
    var stages: [Lenient<RawStage>]?

    static var fields: [LenientField<Self>] {
        [
            .init("name", \.name),
            .init("model", \.model),
            .init("hosts", \.hosts),
            .init("kms", \.kms),
            .init("gateway", \.gateway),
            .init("metrics", \.metrics),
            .init("stages", \.stages),
        ]
    }

    struct RawModel: LenientRecord {
        var kind: String?
        var directory: String?
        var layers: Int?

        static var fields: [LenientField<Self>] {
            [
                .init("kind", \.kind),
                .init("directory", \.directory),
                .init("layers", \.layers),
            ]
        }
    }

    struct RawHost: LenientRecord {
        var address: String?
        var platformKey: String?

        static var fields: [LenientField<Self>] {
            [
                .init("address", \.address),
                .init("platformKey", \.platformKey),
            ]
        }
    }

    struct RawKeyBroker: LenientRecord {
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

        static var fields: [LenientField<Self>] {
            [
                .init("host", \.host),
                .init("endpoint", \.endpoint),
                .init("state", \.state),
                .init("rootKey", \.rootKey),
                .init("platformKeys", \.platformKeys),
                .init("rotation", \.rotation),
                .init("manifestTTL", \.manifestTTL),
                .init("policy", \.policy),
                .init("metrics", \.metrics),
                .init("collateral", \.collateral),
            ]
        }
    }

    struct RawRotation: LenientRecord {
        var epoch: String?
        var grace: String?

        static var fields: [LenientField<Self>] {
            [
                .init("epoch", \.epoch),
                .init("grace", \.grace),
            ]
        }
    }

    struct RawPolicy: LenientRecord {
        var defaults: RawRolePolicy?
        var roles: [String: RawRolePolicy]?

        static var fields: [LenientField<Self>] {
            [
                .init("default", \.defaults),
                .init("roles", \.roles),
            ]
        }
    }

    /// A role's policy: each accepted evidence kind with its own constraints.
    struct RawRolePolicy: LenientRecord {
        var evidence: [String: Lenient<RawEvidencePolicy>]?

        static var fields: [LenientField<Self>] {
            [
                .init("evidence", \.evidence)
            ]
        }
    }

    /// What evidence of one kind must show; which fields may appear depends on the kind.
    struct RawEvidencePolicy: LenientRecord {
        var measurements: [String]?
        var allowDebug: Bool?
        var minimumTCB: UInt64?
        var vmpl: Int?
        var sevSNP: SEVSNPPolicy?
        var tdx: TDXPolicy?
        var nvidiaGPU: NVIDIAGPUPolicy?

        static var fields: [LenientField<Self>] {
            [
                .init("measurements", \.measurements),
                .init("allowDebug", \.allowDebug),
                .init("minimumTCB", \.minimumTCB),
                .init("vmpl", \.vmpl),
                .init("sevSNP", \.sevSNP),
                .init("tdx", \.tdx),
                .init("nvidiaGPU", \.nvidiaGPU),
            ]
        }
    }

    struct RawGateway: LenientRecord {
        var host: String?
        var front: String?
        var backend: String?
        var maxInFlight: Int?
        var maxInFlightPerClient: Int?
        var maxInFlightPerAddress: Int?
        var maxPayload: String?
        var deadline: String?
        var maxDeadline: String?
        var heartbeat: RawHeartbeat?
        var maxAttempts: Int?
        var metrics: String?

        static var fields: [LenientField<Self>] {
            [
                .init("host", \.host),
                .init("front", \.front),
                .init("backend", \.backend),
                .init("maxInFlight", \.maxInFlight),
                .init("maxInFlightPerClient", \.maxInFlightPerClient),
                .init("maxInFlightPerAddress", \.maxInFlightPerAddress),
                .init("maxPayload", \.maxPayload),
                .init("deadline", \.deadline),
                .init("maxDeadline", \.maxDeadline),
                .init("heartbeat", \.heartbeat),
                .init("maxAttempts", \.maxAttempts),
                .init("metrics", \.metrics),
            ]
        }
    }

    struct RawHeartbeat: LenientRecord {
        var interval: String?
        var timeout: String?

        static var fields: [LenientField<Self>] {
            [
                .init("interval", \.interval),
                .init("timeout", \.timeout),
            ]
        }
    }

    struct RawMetrics: LenientRecord {
        var basePort: Int?

        static var fields: [LenientField<Self>] {
            [
                .init("basePort", \.basePort)
            ]
        }
    }

    struct RawStage: LenientRecord {
        var name: String?
        var kind: String?
        var host: String?
        var replicas: Int?
        var layers: [Int]?
        var batching: RawBatching?
        var queue: Int?
        var threads: Int?
        var precision: String?
        var metrics: String?

        static var fields: [LenientField<Self>] {
            [
                .init("name", \.name),
                .init("kind", \.kind),
                .init("host", \.host),
                .init("replicas", \.replicas),
                .init("layers", \.layers),
                .init("batching", \.batching),
                .init("queue", \.queue),
                .init("threads", \.threads),
                .init("precision", \.precision),
                .init("metrics", \.metrics),
            ]
        }
    }

    struct RawBatching: LenientRecord {
        var maxBatch: Int?
        var maxDelay: String?

        static var fields: [LenientField<Self>] {
            [
                .init("maxBatch", \.maxBatch),
                .init("maxDelay", \.maxDelay),
            ]
        }
    }
}
