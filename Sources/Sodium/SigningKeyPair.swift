internal import CSodium

/// An Ed25519 key pair: signs messages so a receiver knows which attested role sent them.
public struct SigningKeyPair: Sendable {
    public let publicKey: SigningPublicKey
    public let secretKey: SigningSecretKey

    public static func generate() -> SigningKeyPair {
        SodiumLibrary.ensureInitialized()
        let secret = SecureBytes(count: SigningSecretKey.byteCount)
        var publicBytes = [UInt8](repeating: 0, count: SigningPublicKey.byteCount)
        let status = secret.withUnsafeMutableBytes { sk in
            crypto_sign_keypair(&publicBytes, sk.bindMemory(to: UInt8.self).baseAddress!)
        }
        precondition(status == 0, "crypto_sign_keypair failed")
        return SigningKeyPair(secretKey: try! SigningSecretKey(secret: secret))
    }

    /// The deterministic key pair for a 32-byte seed.
    public init(seed: [UInt8]) throws(SodiumError) {
        try requireLength(seed, Int(crypto_sign_SEEDBYTES), "signing seed")
        SodiumLibrary.ensureInitialized()
        let secret = SecureBytes(count: SigningSecretKey.byteCount)
        var publicBytes = [UInt8](repeating: 0, count: SigningPublicKey.byteCount)
        let status = secret.withUnsafeMutableBytes { sk in
            crypto_sign_seed_keypair(&publicBytes, sk.bindMemory(to: UInt8.self).baseAddress!, seed)
        }
        guard status == 0 else { throw .failed("crypto_sign_seed_keypair") }
        self.init(secretKey: try SigningSecretKey(secret: secret))
    }

    /// The key pair for a seed held in secure memory.
    public init(seed: SecureBytes) throws(SodiumError) {
        guard seed.count == Int(crypto_sign_SEEDBYTES) else {
            throw .invalidLength(what: "signing seed", expected: Int(crypto_sign_SEEDBYTES), actual: seed.count)
        }
        SodiumLibrary.ensureInitialized()
        let secret = SecureBytes(count: SigningSecretKey.byteCount)
        var publicBytes = [UInt8](repeating: 0, count: SigningPublicKey.byteCount)
        let status = secret.withUnsafeMutableBytes { sk in
            seed.withUnsafeBytes { s in
                crypto_sign_seed_keypair(
                    &publicBytes, sk.bindMemory(to: UInt8.self).baseAddress!, s.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard status == 0 else { throw .failed("crypto_sign_seed_keypair") }
        self.init(secretKey: try SigningSecretKey(secret: secret))
    }

    public init(secretKey: SigningSecretKey) {
        self.secretKey = secretKey
        self.publicKey = secretKey.publicKey
    }

    /// A 64-byte detached Ed25519 signature over `message`.
    public func signature(for message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { signature(forRaw: $0) }
    }

    /// A detached signature over bytes in any contiguous buffer.
    public func signature(forRaw message: UnsafeRawBufferPointer) -> [UInt8] {
        SodiumLibrary.ensureInitialized()
        let one: [UInt8] = [0]
        return [UInt8](unsafeUninitializedCapacity: SigningPublicKey.signatureByteCount) { buffer, initialized in
            let status = secretKey.secret.withUnsafeBytes { sk in
                one.withUnsafeBufferPointer { fallback in
                    crypto_sign_detached(
                        buffer.baseAddress!, nil,
                        message.bindMemory(to: UInt8.self).baseAddress ?? fallback.baseAddress!,
                        UInt64(message.count), sk.bindMemory(to: UInt8.self).baseAddress!)
                }
            }
            precondition(status == 0, "crypto_sign_detached failed")
            initialized = SigningPublicKey.signatureByteCount
        }
    }
}
