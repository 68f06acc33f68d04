import ZeroMQ

/// CURVE key pairs for tests, from libzmq's own generator (via the wrapper).
enum CurveKeys {
    static func make() -> (public: [UInt8], secret: [UInt8]) {
        let pair = try! CurveKeyPair.generate()
        return (pair.publicKey, pair.secretKey)
    }
}
