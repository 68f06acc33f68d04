import Sodium

extension Topology {
    /// The canonical bytes of one role's configuration: what the simulated TEE measures beside
    /// the executable, so that a process started with a different configuration for its role
    /// gets a different measurement and is refused keys.
    ///
    /// Sorted-key JSON with no spaces, identical in every run and on every platform. It holds
    /// what decides how the role treats data: the topology name, the role, its kind, layers and
    /// batching, its precision (only when not fp32, so fp32 stages keep their measurement), the
    /// roles it receives from and sends to, the model section, and the digest of the whole
    /// topology file, so that a node started from an edited file (another edge, address or
    /// policy) is measured differently. Returns `nil` for a role the topology lacks.
    ///
    /// `modelFileDigests` (file name relative to the model directory → lower-case hex SHA-256)
    /// are the contents of every model file the role reads in clear (vocabulary, configuration):
    /// they shape its results as much as its code does, so an edited file is a different
    /// measurement and gets no keys. The caller hashes the files (this model does no I/O).
    public func stageConfigurationBytes(role: String, modelFileDigests: [String: String]) -> [UInt8]? {
        guard let previous = previousRole(of: role), let next = nextRole(of: role) else { return nil }
        var members: [String: CanonicalJSON] = [
            "format": .integer(1),
            "topology": .string(name),
            "role": .string(role),
            "previous": .string(previous),
            "next": .string(next),
            "model": modelJSON,
            "modelFiles": .object(modelFileDigests.mapValues { .string($0) }),
            "topologyDigest": .string(Hex.encode(digest)),
        ]
        if let stage = stage(named: role) {
            members["kind"] = .string(stage.kind.rawValue)
            members["layers"] =
                stage.layers.map { .array([.integer(Int64($0.lowerBound)), .integer(Int64($0.upperBound))]) } ?? .null
            members["maxBatch"] = .integer(Int64(stage.maxBatch))
            members["maxDelayNanoseconds"] = .integer(UnitText.nanosecondCount(stage.maxDelay))
            members["queue"] = .integer(Int64(stage.queue))
            members["threads"] = .integer(Int64(stage.threads))
            // Only when not the default, so that every fp32 stage keeps the measurement it had.
            if stage.precision != .fp32 { members["precision"] = .string(stage.precision.rawValue) }
        } else {
            members["kind"] = .string(Topology.gatewayRole)
            members["maxInFlight"] = .integer(Int64(gateway.maxInFlight))
            // Only when the file sets them, so a gateway on the default shares keeps the
            // measurement it had before they existed.
            if let share = gateway.maxInFlightPerClient { members["maxInFlightPerClient"] = .integer(Int64(share)) }
            if let share = gateway.maxInFlightPerAddress { members["maxInFlightPerAddress"] = .integer(Int64(share)) }
            members["maxPayload"] = .integer(Int64(gateway.maxPayload))
            members["deadlineNanoseconds"] = .integer(UnitText.nanosecondCount(gateway.deadline))
            members["maxDeadlineNanoseconds"] = .integer(UnitText.nanosecondCount(gateway.maxDeadline))
            members["heartbeatIntervalNanoseconds"] = .integer(UnitText.nanosecondCount(gateway.heartbeatInterval))
            members["heartbeatTimeoutNanoseconds"] = .integer(UnitText.nanosecondCount(gateway.heartbeatTimeout))
            members["maxAttempts"] = .integer(Int64(gateway.maxAttempts))
        }
        return CanonicalJSON.object(members).bytes
    }

    private var modelJSON: CanonicalJSON {
        .object([
            "kind": .string(model.kind.rawValue),
            "directory": model.directory.map { .string($0) } ?? .null,
            "layers": .integer(Int64(model.layers)),
        ])
    }
}
