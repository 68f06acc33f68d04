import Sodium

extension EvidencePolicy {
    /// The policy's literal for "the broker's own build with this role's configuration".
    public static let referenceBuild = "reference-build"

    /// The accepted measurements as bytes, with `reference-build` replaced by `referenceBuild`.
    ///
    /// Fails closed: an entry that is not hex, or `reference-build` with no reference supplied,
    /// is an error rather than skipped.
    public func resolvedMeasurements(referenceBuild: [UInt8]?) throws(AttestationError) -> [[UInt8]] {
        var resolved: [[UInt8]] = []
        for entry in measurements {
            if entry == Self.referenceBuild {
                guard let referenceBuild else { throw .referenceBuildUnavailable }
                resolved.append(referenceBuild)
            } else {
                guard let bytes = Hex.decode(spaced: entry), !bytes.isEmpty else { throw .invalidMeasurement(entry) }
                resolved.append(bytes)
            }
        }
        return resolved
    }
}
