import Crypto
import Gateway
import Synchronization
import Wire

/// A key broker and its certified role keys, as the gateway tests need them: signs certificates
/// with a broker identity (swift-crypto Ed25519, as the gateway verifies), and announcements
/// with each role's key, for the routing identity they are sent from.
final class ReplicaCredentials: Sendable {
    static let pipelineID = "test-pipeline"
    let broker = Curve25519.Signing.PrivateKey()
    private let roleKeys = Mutex([String: Curve25519.Signing.PrivateKey]())
    /// Keeps each announcement's timestamp after the last, as a real replica's clock does.
    private let sequence = Atomic<UInt64>(0)

    func trust(maxAge: Duration = .seconds(30)) -> ReplicaTrust {
        try! ReplicaTrust(
            brokerIdentityKey: Array(broker.publicKey.rawRepresentation), pipelineID: Self.pipelineID, maxAge: maxAge)
    }

    func roleKey(_ role: String) -> Curve25519.Signing.PrivateKey {
        roleKeys.withLock { keys in
            if let key = keys[role] { return key }
            let key = Curve25519.Signing.PrivateKey()
            keys[role] = key
            return key
        }
    }

    /// A certificate for `role`'s key in `epoch`, signed by `signer` (the broker unless given).
    func certificate(
        role: String, epoch: UInt32, notAfter: UInt64 = 100_000_000, pipelineID: String = pipelineID,
        key: Curve25519.Signing.PrivateKey? = nil, signer: Curve25519.Signing.PrivateKey? = nil
    ) -> RoleCertificate {
        var certificate = RoleCertificate(
            pipelineID: pipelineID, role: role, epoch: epoch,
            signingKey: Array((key ?? roleKey(role)).publicKey.rawRepresentation), notAfter: notAfter)
        certificate.signature = Array(try! (signer ?? broker).signature(for: certificate.signedBytes))
        return certificate
    }

    /// A signed announcement body from `routingID`: certified for the newest of `epochs`.
    func announcement(
        role: String, replica: UInt16 = 0, capacity: UInt32 = 4, epochs: [UInt32] = [1], routingID: [UInt8],
        now: UInt64,
        certificate: RoleCertificate? = nil, timestamp: UInt64? = nil, signer: Curve25519.Signing.PrivateKey? = nil
    ) -> ReplicaAnnouncement {
        let certificate = certificate ?? self.certificate(role: role, epoch: epochs.max() ?? 1)
        var announcement = ReplicaAnnouncement(
            role: role, replica: replica, instance: 1, capacity: capacity, epochs: epochs,
            timestamp: timestamp ?? now + sequence.add(1, ordering: .relaxed).newValue,
            certificate: certificate.encoded())
        announcement.signature = Array(
            try! (signer ?? roleKey(role)).signature(for: announcement.signedBytes(routingID: routingID)))
        return announcement
    }

    /// The frames of a `ready` carrying `announcement`.
    static func frames(_ announcement: ReplicaAnnouncement, type: MessageType = .ready) -> [[UInt8]] {
        [
            MessageHeader(type: type, jobID: JobID(bytes: Array(repeating: 0, count: 16))!).encoded(),
            announcement.encoded(),
        ]
    }
}
