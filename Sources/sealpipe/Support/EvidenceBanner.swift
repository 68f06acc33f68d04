import Attestation
import Topology
import Trust

/// What `sealpipe launch` and `sealpipe status` say about the evidence protecting each role —
/// led, when any role accepts simulated evidence, by a line no operator can miss.
enum EvidenceBanner {
    /// The summary of the topology's policy for its attested roles (the stages), as the broker
    /// will put it in the manifest.
    static func summaries(of topology: Topology) -> [RolePolicySummary] {
        let roles = Set(topology.stageRoles)
        return RolePolicySummary.summaries(
            of: ReleasePolicy(roles: topology.releasePolicy.roles.filter { roles.contains($0.key) }))
    }

    /// `SIMULATED: …` when any role accepts simulated evidence (nil otherwise).
    static func simulatedWarning(_ summaries: [RolePolicySummary]) -> String? {
        let simulated = summaries.filter(\.acceptsSimulatedEvidence).map(\.role)
        guard !simulated.isEmpty else { return nil }
        return "SIMULATED: \(simulated.joined(separator: ", ")) accept simulated evidence — no hardware protects "
            + "this pipeline's data from whoever runs its hosts; clients must pass --allow-simulated"
    }

    /// The warning (if any), then one line per role naming the evidence kinds that protect it.
    static func lines(_ summaries: [RolePolicySummary]) -> [String] {
        (simulatedWarning(summaries).map { [$0] } ?? []) + summaries.map { "evidence \($0)" }
    }
}
