internal import CZeroMQ

/// A CURVE (transport encryption) key pair, in the 32-byte raw form the socket options take.
public struct CurveKeyPair: Sendable {
    public let publicKey: [UInt8]
    public let secretKey: [UInt8]

    public static func generate() throws(ZMQError) -> CurveKeyPair {
        var publicText = [CChar](repeating: 0, count: 41)
        var secretText = [CChar](repeating: 0, count: 41)
        try zmqCall("zmq_curve_keypair") { zmq_curve_keypair(&publicText, &secretText) }
        return CurveKeyPair(publicKey: try decode(publicText), secretKey: try decode(secretText))
    }

    private static func decode(_ z85: [CChar]) throws(ZMQError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 32)
        guard zmq_z85_decode(&bytes, z85) != nil else { throw ZMQError(call: "zmq_z85_decode", errno: EINVAL) }
        return bytes
    }
}
