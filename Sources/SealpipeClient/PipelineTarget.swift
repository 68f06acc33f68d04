import BrokerClient
public import Sodium
public import Trust

/// Where a client sends jobs and the public keys it seals to and checks results with —
/// normally taken from a verified pipeline manifest.
public struct PipelineTarget: Sendable {
    /// The gateway's front endpoint, e.g. `tcp://127.0.0.1:5555`.
    public var frontEndpoint: String
    /// The front role's public key for `epoch`: requests are sealed to it.
    public var frontKey: BoxPublicKey
    public var epoch: UInt32
    /// The last role's name and signing key: a result not signed by it is refused.
    public var resultSigner: (role: String, key: SigningPublicKey)
    /// The pipeline's id, which receipts are signed for.
    public var pipelineID: String

    public init(
        frontEndpoint: String, frontKey: BoxPublicKey, epoch: UInt32,
        resultSigner: (role: String, key: SigningPublicKey), pipelineID: String = ""
    ) {
        self.pipelineID = pipelineID
        self.frontEndpoint = frontEndpoint
        self.frontKey = frontKey
        self.epoch = epoch
        self.resultSigner = resultSigner
    }
}

extension PipelineTarget {
    /// The target a verified manifest describes, at the gateway's front endpoint.
    public init(manifest: PipelineManifest, frontEndpoint: String) throws {
        guard let epoch = UInt32(exactly: manifest.frontKey.epoch) else {
            throw KeyBrokerClientError.malformedReply("epoch \(manifest.frontKey.epoch) does not fit the wire")
        }
        self.init(
            frontEndpoint: frontEndpoint, frontKey: manifest.frontKey.key, epoch: epoch,
            resultSigner: (role: manifest.resultRole, key: manifest.resultSigner), pipelineID: manifest.pipelineID)
    }
}
