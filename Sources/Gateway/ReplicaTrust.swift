public import Crypto
import TimeUnits
public import Wire

/// How the gateway tells an attested replica from anyone who can reach its backend port,
/// holding no key that can open anything: the key broker's pinned Ed25519 identity, which
/// signs a certificate for each role's signing key when it releases keys after attestation.
///
/// A replica's announcement counts only if its certificate is the broker's, for this pipeline
/// and the role announced, not past its end; the epochs announced are the certified one (and
/// the one before, during its grace); the certified key signed the announcement together with
/// the ZeroMQ routing identity it arrived from; and its timestamp is within `maxAge` of now.
public struct ReplicaTrust: Sendable {
    /// The key broker's identity public key (Ed25519), pinned.
    public let brokerIdentityKey: Curve25519.Signing.PublicKey
    /// The pipeline the certificates must name (the broker's pipeline id: the topology's name).
    public let pipelineID: String
    /// How far an announcement's timestamp may be from the gateway's clock, either way.
    public let maxAge: Duration

    /// Throws when `brokerIdentityKey` is not a 32-byte Ed25519 public key.
    public init(brokerIdentityKey: [UInt8], pipelineID: String, maxAge: Duration = .seconds(30)) throws {
        self.brokerIdentityKey = try Curve25519.Signing.PublicKey(rawRepresentation: brokerIdentityKey)
        self.pipelineID = pipelineID
        self.maxAge = maxAge
    }

    /// Why an announcement proves nothing: the metric label of the failed check, and a reason.
    public struct Refusal: Error, Sendable, Equatable {
        public let check: String
        public let reason: String
    }

    /// Checks `announcement`, received from `routingID` at `now` (Unix milliseconds), and
    /// returns its certificate, or the first check it fails.
    public func verify(_ announcement: ReplicaAnnouncement, routingID: [UInt8], now: UInt64)
        -> Result<RoleCertificate, Refusal>
    {
        let certificate: RoleCertificate
        do {
            certificate = try RoleCertificate(decoding: announcement.certificate)
        } catch {
            return .failure(Refusal(check: "malformed_certificate", reason: "\(error)"))
        }
        guard brokerIdentityKey.isValidSignature(certificate.signature, for: certificate.signedBytes) else {
            return .failure(
                Refusal(
                    check: "certificate_signature", reason: "the certificate is not signed by the pinned key broker"))
        }
        guard certificate.pipelineID == pipelineID else {
            return .failure(
                Refusal(
                    check: "certificate_pipeline", reason: "the certificate is for pipeline \(certificate.pipelineID)"))
        }
        guard certificate.role == announcement.role else {
            return .failure(
                Refusal(
                    check: "certificate_role",
                    reason: "the certificate is for \(certificate.role), the announcement names \(announcement.role)"))
        }
        guard now <= certificate.notAfter else {
            return .failure(
                Refusal(check: "certificate_expired", reason: "the certificate ended at \(certificate.notAfter)"))
        }
        let certified: Set<UInt32> =
            certificate.epoch > 0 ? [certificate.epoch, certificate.epoch - 1] : [certificate.epoch]
        guard announcement.epochs.contains(certificate.epoch), announcement.epochs.allSatisfy(certified.contains) else {
            return .failure(
                Refusal(
                    check: "epochs_not_certified",
                    reason:
                        "announced epochs \(announcement.epochs) are not epoch \(certificate.epoch) "
                        + "(and the one before)"
                ))
        }
        guard let roleKey = try? Curve25519.Signing.PublicKey(rawRepresentation: certificate.signingKey),
            roleKey.isValidSignature(announcement.signature, for: announcement.signedBytes(routingID: routingID))
        else {
            return .failure(
                Refusal(
                    check: "announcement_signature",
                    reason: "the announcement is not signed by the certified key for this connection"))
        }
        let window = UInt64(max(0, maxAge.wholeMilliseconds))
        let earliest = now > window ? now - window : 0
        let latest = now > UInt64.max - window ? UInt64.max : now + window
        guard (earliest...latest).contains(announcement.timestamp) else {
            return .failure(
                Refusal(
                    check: "stale_announcement",
                    reason: "the announcement's time \(announcement.timestamp) is not within \(maxAge) of now"))
        }
        return .success(certificate)
    }
}
