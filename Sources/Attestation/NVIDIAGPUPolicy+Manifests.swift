public import Foundation

extension NVIDIAGPUPolicy {
    /// The policy with the RIMs of `referenceManifests` read through `read` (path → bytes), each
    /// signature checked at `now`, and their active measurements merged into
    /// `referenceMeasurements`. Fails closed, naming the file: an unreadable, malformed or
    /// unsigned RIM, two RIMs with the same active index, or a block both a RIM and
    /// `referenceMeasurements` give values for (which one would rule is not for the broker to guess).
    public func resolvingManifests(now: Date, read: (String) throws -> [UInt8]) throws(AttestationError)
        -> NVIDIAGPUPolicy
    {
        guard let paths = referenceManifests, !paths.isEmpty else { return self }
        var rims: [NVIDIARIM] = []
        for path in paths {
            let bytes: [UInt8]
            do { bytes = try read(path) } catch { throw .io(path: path, reason: "cannot read RIM (\(error))") }
            let rim: NVIDIARIM
            do { rim = try NVIDIARIM(bytes: bytes) } catch { throw .malformed(what: path, reason: "\(error)") }
            if let problem = rim.signatureProblem(now: now) { throw .refused("\(path): \(problem)") }
            rims.append(rim)
        }
        var resolved = self
        var measurements = referenceMeasurements ?? [:]
        for (block, values) in try NVIDIARIM.referenceMeasurements(rims) {
            guard measurements[block] == nil else {
                throw .refused("block \(block) has values both in referenceMeasurements and in a RIM")
            }
            measurements[block] = values
        }
        resolved.referenceMeasurements = measurements
        return resolved
    }
}
