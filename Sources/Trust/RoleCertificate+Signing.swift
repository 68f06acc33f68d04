public import Sodium
public import Wire

extension RoleCertificate {
    /// The certificate signed with the broker's identity key.
    public func signed(with identity: SigningKeyPair) -> RoleCertificate {
        var copy = self
        copy.signature = identity.signature(for: signedBytes)
        return copy
    }

    /// True when `brokerKey` signed exactly these fields.
    public func hasValidSignature(by brokerKey: SigningPublicKey) -> Bool {
        signature.count == Self.signatureByteCount && brokerKey.isValidSignature(signature, for: signedBytes)
    }
}
