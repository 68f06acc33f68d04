import Attestation

/// Every default a topology file may leave out, in one place (docs/topology.md lists them).
enum TopologyDefaults {
    static let hostName = "local"
    static let hostAddress = "127.0.0.1"
    static let minilmDirectory = "models/all-MiniLM-L6-v2"
    static let minilmLayers = 6
    static let metricsBasePort = 9400
    static let epoch: Duration = .seconds(3600)
    static let grace: Duration = .seconds(600)
    static let manifestTTL: Duration = .seconds(3600)
    static let platformKey = ".sealpipe/platform.pub"
    static let maxInFlight = 1024
    static let maxAttempts = 3
    static let maxPayload = 1 << 20
    static let deadline: Duration = .seconds(30)
    static let maxDeadline: Duration = .seconds(300)
    static let heartbeatInterval: Duration = .milliseconds(500)
    static let heartbeatTimeout: Duration = .seconds(2)
    static let maxBatch = 32
    static let maxDelay: Duration = .milliseconds(2)
    /// A replica's queue holds this many full batches unless the file says otherwise.
    static let queueBatches = 4
    static let evidence = ["simulated"]
    static let measurements = [referenceBuild]
    static let referenceBuild = "reference-build"
    static let evidenceKinds = EvidenceKind.roleKinds.map(\.rawValue)

    /// Upper bounds on counts: far above any sane setting, low enough that no arithmetic on
    /// them overflows (queue = 4 × maxBatch, metrics port + replicas).
    enum Limits {
        static let replicas = 256
        static let threads = 256
        /// A batch's outputs travel as one bundle, whose job table holds at most this many.
        static let maxBatch = 4096
        static let queue = 1 << 20
        static let maxInFlight = 1 << 24
        static let maxAttempts = 100
    }
}
