import Crypto
import Gateway
import Testing
import Wire

/// The gateway counts a peer as a replica only once it proves an attested role: the broker's
/// certificate for its role key, and that key's signature over the announcement and the
/// connection it came from. Every refusal is checked here, and that an unproven peer gets no
/// job and cannot end one.
@Suite("Gateway replica proof")
struct ReplicaTrustTests {
    static let roles = ["preprocessor", "shard-0", "postprocessor"]
    let credentials = ReplicaCredentials()
    let client: [UInt8] = Array("client-1".utf8)

    func makeCore(maxAge: Duration = .seconds(30)) -> GatewayCore {
        GatewayCore(
            configuration: GatewayConfiguration(roles: Self.roles, replicaTrust: credentials.trust(maxAge: maxAge)))
    }

    func submit(_ core: inout GatewayCore, id: JobID, now: UInt64 = 1000) -> [GatewayAction] {
        let header = MessageHeader(type: .submit, epoch: 1, jobID: id)
        return core.clientMessage(identity: client, frames: [header.encoded(), [1, 2, 3]], peerAddress: nil, now: now)
    }

    func dispatchedTo(_ actions: [GatewayAction]) -> [[UInt8]] {
        actions.compactMap {
            guard case .toReplica(let identity, _) = $0 else { return nil }
            return identity
        }
    }

    func reject(_ core: inout GatewayCore, from identity: [UInt8], job: JobID, now: UInt64 = 1000) -> [GatewayAction] {
        let message = PipelineMessage(
            header: MessageHeader(type: .reject, code: ErrorCode.stageFailed.rawValue, jobID: job),
            body: [Array("no".utf8), []])
        return core.replicaMessage(identity: identity, frames: message.frames, now: now)
    }

    @Test func aFakeReplicaGetsNoJobAndItsRejectionsAreDroppedAndCounted() throws {
        var core = makeCore()
        let fake = Array("preprocessor.0.fake".utf8)
        // It names the role, claims room for every job, and signs with a key of its own,
        // certified by a broker of its own.
        let impostor = Curve25519.Signing.PrivateKey()
        let forged = credentials.certificate(
            role: "preprocessor", epoch: 1, key: impostor, signer: Curve25519.Signing.PrivateKey())
        let announcement = credentials.announcement(
            role: "preprocessor", capacity: 1_000, routingID: fake, now: 1000, certificate: forged, signer: impostor)
        #expect(core.replicaMessage(identity: fake, frames: ReplicaCredentials.frames(announcement), now: 1000).isEmpty)
        #expect(core.replicaStatus.isEmpty)

        let jobs = (0..<7).map { _ in JobID.random() }
        for id in jobs { #expect(dispatchedTo(submit(&core, id: id)).isEmpty) }
        // Its rejections of jobs it never got end nothing.
        for id in jobs { #expect(reject(&core, from: fake, job: id).isEmpty) }
        #expect(core.jobsInFlight == 7)
        #expect(core.counters.announcementsRefused == ["certificate_signature": 1])
        #expect(core.counters.droppedFromReplicas == ["unproven_peer": 7])

        // A genuine replica then gets every job.
        let genuine = Array("preprocessor.0.genuine".utf8)
        let proven = credentials.announcement(role: "preprocessor", capacity: 8, routingID: genuine, now: 1000)
        let actions = core.replicaMessage(identity: genuine, frames: ReplicaCredentials.frames(proven), now: 1000)
        #expect(dispatchedTo(actions) == Array(repeating: genuine, count: 7))
    }

    @Test func aGenuineAnnouncementReplayedFromAnotherConnectionIsRefused() throws {
        var core = makeCore()
        let genuine = Array("preprocessor.0.1a2b".utf8)
        let announcement = credentials.announcement(role: "preprocessor", routingID: genuine, now: 1000)
        let attacker = Array("preprocessor.0.ffff".utf8)
        #expect(
            core.replicaMessage(identity: attacker, frames: ReplicaCredentials.frames(announcement), now: 1000).isEmpty)
        #expect(core.replicaStatus.isEmpty)
        #expect(core.counters.announcementsRefused == ["announcement_signature": 1])
        // From its own connection it counts.
        _ = core.replicaMessage(identity: genuine, frames: ReplicaCredentials.frames(announcement), now: 1000)
        #expect(core.replicaStatus.map(\.role) == ["preprocessor"])
        // Replayed on that connection later, it is older than what the replica last said.
        let newer = credentials.announcement(role: "preprocessor", routingID: genuine, now: 2000)
        _ = core.replicaMessage(
            identity: genuine, frames: ReplicaCredentials.frames(newer, type: .heartbeat), now: 2000)
        _ = core.replicaMessage(
            identity: genuine, frames: ReplicaCredentials.frames(announcement, type: .heartbeat), now: 2000)
        #expect(core.counters.announcementsRefused == ["announcement_signature": 1, "replayed_announcement": 1])

        // The replica dies; its last announcement, replayed under its routing identity while
        // still fresh, does not bring it back. A newer one from it (a real restart would use a
        // new identity) does.
        _ = core.tick(now: 4_100)
        #expect(core.replicaStatus.isEmpty)
        _ = core.replicaMessage(identity: genuine, frames: ReplicaCredentials.frames(newer), now: 4_200)
        #expect(core.replicaStatus.isEmpty)
        #expect(core.counters.announcementsRefused["replayed_announcement"] == 2)
        let fresh = credentials.announcement(role: "preprocessor", routingID: genuine, now: 4_300)
        _ = core.replicaMessage(identity: genuine, frames: ReplicaCredentials.frames(fresh), now: 4_300)
        #expect(core.replicaStatus.map(\.role) == ["preprocessor"])
    }

    /// One refused announcement per check, each from a fresh peer: none becomes a replica.
    @Test(arguments: [
        "malformed_announcement", "unknown_role", "malformed_certificate", "certificate_signature",
        "certificate_pipeline",
        "certificate_role", "certificate_expired", "epochs_not_certified", "announcement_signature",
        "stale_announcement",
        "future_announcement",
    ])
    func everyFailedCheckRefusesTheAnnouncement(check: String) throws {
        var core = makeCore(maxAge: .seconds(5))
        let now: UInt64 = 1_000_000
        let peer = Array("peer".utf8)
        let c = credentials
        var body: [UInt8]
        switch check {
        case "malformed_announcement":
            body = Array(c.announcement(role: "preprocessor", routingID: peer, now: now).encoded().dropLast())
        case "unknown_role":
            body = c.announcement(role: "mallory", routingID: peer, now: now).encoded()
        case "malformed_certificate":
            var announcement = c.announcement(role: "preprocessor", routingID: peer, now: now)
            announcement.certificate = [1, 2, 3]
            announcement.signature = Array(
                try c.roleKey("preprocessor").signature(for: announcement.signedBytes(routingID: peer)))
            body = announcement.encoded()
        case "certificate_signature":
            var certificate = c.certificate(role: "preprocessor", epoch: 1)
            certificate.notAfter += 1  // changed after the broker signed it
            body = c.announcement(role: "preprocessor", routingID: peer, now: now, certificate: certificate).encoded()
        case "certificate_pipeline":
            let certificate = c.certificate(role: "preprocessor", epoch: 1, pipelineID: "other-pipeline")
            body = c.announcement(role: "preprocessor", routingID: peer, now: now, certificate: certificate).encoded()
        case "certificate_role":
            // A shard's genuine certificate, presented by the shard's key, to claim the front role.
            let certificate = c.certificate(role: "shard-0", epoch: 1)
            body = c.announcement(
                role: "preprocessor", routingID: peer, now: now, certificate: certificate, signer: c.roleKey("shard-0")
            ).encoded()
        case "certificate_expired":
            let certificate = c.certificate(role: "preprocessor", epoch: 1, notAfter: now - 1)
            body = c.announcement(role: "preprocessor", routingID: peer, now: now, certificate: certificate).encoded()
        case "epochs_not_certified":
            let certificate = c.certificate(role: "preprocessor", epoch: 1)
            body = c.announcement(
                role: "preprocessor", epochs: [1, 7], routingID: peer, now: now, certificate: certificate
            )
            .encoded()
        case "announcement_signature":
            body = c.announcement(
                role: "preprocessor", routingID: peer, now: now, signer: Curve25519.Signing.PrivateKey()
            )
            .encoded()
        case "stale_announcement":
            body = c.announcement(role: "preprocessor", routingID: peer, now: now, timestamp: now - 5_001).encoded()
        default:
            body = c.announcement(role: "preprocessor", routingID: peer, now: now, timestamp: now + 5_001).encoded()
        }
        let header = MessageHeader(type: .ready, jobID: JobID(bytes: Array(repeating: 0, count: 16))!)
        #expect(core.replicaMessage(identity: peer, frames: [header.encoded(), body], now: now).isEmpty)
        #expect(core.replicaStatus.isEmpty)
        let expected = check == "future_announcement" ? "stale_announcement" : check
        #expect(core.counters.announcementsRefused == [expected: 1])
        // It is still a stranger: nothing it sends ends a job.
        let id = JobID.random()
        _ = submit(&core, id: id, now: now)
        #expect(reject(&core, from: peer, job: id, now: now).isEmpty)
        #expect(core.jobsInFlight == 1)
    }

    @Test func aProvenReplicaKeepsItsRoleAndIsBuriedWhenItsCertificateEnds() throws {
        var core = makeCore()
        let identity = Array("shard-0.0.1".utf8)
        let certificate = credentials.certificate(role: "shard-0", epoch: 1, notAfter: 5_000)
        let first = credentials.announcement(role: "shard-0", routingID: identity, now: 1000, certificate: certificate)
        _ = core.replicaMessage(identity: identity, frames: ReplicaCredentials.frames(first), now: 1000)
        #expect(core.replicaStatus.map(\.role) == ["shard-0"])
        // The same connection cannot turn into another role, even with that role's proof.
        let other = credentials.announcement(role: "postprocessor", routingID: identity, now: 1500)
        _ = core.replicaMessage(
            identity: identity, frames: ReplicaCredentials.frames(other, type: .heartbeat), now: 1500)
        #expect(core.counters.announcementsRefused == ["role_changed": 1])
        // Heartbeats keep it alive, but not past its certificate.
        for now in stride(from: UInt64(2000), through: 5000, by: 1000) {
            let beat = credentials.announcement(
                role: "shard-0", routingID: identity, now: now, certificate: certificate)
            _ = core.replicaMessage(
                identity: identity, frames: ReplicaCredentials.frames(beat, type: .heartbeat), now: now)
            _ = core.tick(now: now)
        }
        #expect(core.replicaStatus.count == 1)
        _ = core.tick(now: 5_001)
        #expect(core.replicaStatus.isEmpty)
        #expect(core.counters.replicasLost == 1)
    }
}
