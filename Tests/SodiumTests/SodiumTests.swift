import Sodium
import Testing

@Suite("Sodium layer")
struct SodiumTests {
    @Test func sealedBoxRoundTripsAndRefusesTheWrongRecipient() throws {
        let recipient = BoxKeyPair.generate()
        let stranger = BoxKeyPair.generate()
        let message = Array("the job's tokens".utf8)
        let sealed = try SealedBox.seal(message, to: recipient.publicKey)
        #expect(sealed.count == message.count + SealedBox.overhead)
        #expect(try SealedBox.open(sealed, with: recipient).copyBytes() == message)
        #expect(throws: SodiumError.couldNotOpen) { try SealedBox.open(sealed, with: stranger) }
    }

    @Test func sealedBoxRefusesTamperingAndTruncationAtEveryPosition() throws {
        let recipient = BoxKeyPair.generate()
        let sealed = try SealedBox.seal(Array(repeating: 7, count: 40), to: recipient.publicKey)
        for index in sealed.indices {
            var tampered = sealed
            tampered[index] ^= 0x40
            #expect(throws: SodiumError.couldNotOpen) { try SealedBox.open(tampered, with: recipient) }
        }
        for length in [0, 1, 47, 48, sealed.count - 1] {
            #expect(throws: SodiumError.couldNotOpen) {
                try SealedBox.open(Array(sealed.prefix(length)), with: recipient)
            }
        }
    }

    @Test func twoSealsOfTheSameMessageDiffer() throws {
        let recipient = BoxKeyPair.generate()
        #expect(
            try SealedBox.seal([1, 2, 3], to: recipient.publicKey)
                != SealedBox.seal([1, 2, 3], to: recipient.publicKey))
    }

    @Test func signaturesVerifyOnlyForTheSignedMessageAndKey() throws {
        let signer = SigningKeyPair.generate()
        let other = SigningKeyPair.generate()
        let message = Array("header and ciphertext".utf8)
        let signature = signer.signature(for: message)
        #expect(signature.count == 64)
        #expect(signer.publicKey.isValidSignature(signature, for: message))
        #expect(!other.publicKey.isValidSignature(signature, for: message))
        #expect(!signer.publicKey.isValidSignature(signature, for: message + [0]))
        var flipped = signature
        flipped[10] ^= 1
        #expect(!signer.publicKey.isValidSignature(flipped, for: message))
        #expect(!signer.publicKey.isValidSignature(Array(signature.dropLast()), for: message))
    }

    @Test func signingSeedIsDeterministicAndRecoverable() throws {
        let seed = SecureRandom.bytes(32)
        let first = try SigningKeyPair(seed: seed)
        let second = try SigningKeyPair(seed: SecureBytes(copying: seed))
        #expect(first.publicKey == second.publicKey)
        #expect(first.secretKey.seed.copyBytes() == seed)
        #expect(
            try SigningKeyPair(secretKey: SigningSecretKey(secret: first.secretKey.secret)).publicKey == first.publicKey
        )
    }

    @Test func hashesMatchKnownAnswers() {
        #expect(
            Hex.encode(SHA256.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Hex.encode(SHA512.hash(Array("abc".utf8)))
                == "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        )
        #expect(Hex.encode(SHA256.hash([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        var incremental = SHA256.Hasher()
        incremental.update(Array("a".utf8))
        incremental.update(Array("bc".utf8))
        #expect(incremental.finalize() == SHA256.hash(Array("abc".utf8)))
        // BLAKE2b-512 of the empty string (RFC 7693 appendix / reference implementation).
        #expect(
            Hex.encode(BLAKE2b.hash([], outputLength: 64))
                == "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce"
        )
        #expect(BLAKE2b.hash([1], key: [9]) != BLAKE2b.hash([1]))
    }

    @Test func aeadRoundTripsAndBindsAssociatedData() throws {
        let key = SecureBytes.random(count: 32)
        let nonce = SecureRandom.bytes(24)
        let sealed = XChaCha20Poly1305.seal(Array("weights".utf8), key: key, nonce: nonce, associatedData: [1])
        #expect(
            try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: [1]).copyBytes()
                == Array("weights".utf8))
        #expect(throws: SodiumError.couldNotOpen) {
            try XChaCha20Poly1305.open(sealed, key: key, nonce: nonce, associatedData: [2])
        }
        #expect(throws: SodiumError.couldNotOpen) {
            try XChaCha20Poly1305.open(sealed, key: SecureBytes.random(count: 32), nonce: nonce, associatedData: [1])
        }
    }

    @Test func secureBytesNeverPrintTheirContents() {
        let secret = SecureBytes(copying: Array("hunter2-secret".utf8))
        #expect(String(describing: secret) == "SecureBytes(14 bytes, redacted)")
        #expect(!String(reflecting: secret).contains("hunter2"))
        let key = BoxKeyPair.generate()
        #expect(String(describing: key.secretKey).contains("redacted"))
    }

    @Test func constantTimeComparison() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2], [1, 2, 3]))
        #expect(SecureBytes(copying: [5, 6]).constantTimeEquals(SecureBytes(copying: [5, 6])))
        #expect(!SecureBytes(copying: [5, 6]).constantTimeEquals(SecureBytes(copying: [5, 7])))
    }

    @Test func hexRoundTripsAndRefusesJunk() {
        #expect(Hex.decode("00ff10Ab") == [0, 255, 16, 171])
        #expect(Hex.encode([0, 255, 16, 171]) == "00ff10ab")
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }

    @Test func keysOfTheWrongLengthAreRefused() {
        #expect(throws: SodiumError.invalidLength(what: "box public key", expected: 32, actual: 31)) {
            try BoxPublicKey(bytes: Array(repeating: 1, count: 31))
        }
        #expect(throws: SodiumError.self) { try BoxSecretKey(secret: SecureBytes(count: 16)) }
        #expect(throws: SodiumError.self) { try SigningPublicKey(bytes: []) }
    }
}

@Suite("Sodium refusals")
struct SodiumRefusalTests {
    /// A peer-supplied reply key that is a low-order point must be refused, not crash the stage.
    @Test func sealingToALowOrderKeyIsRefused() throws {
        let lowOrder = try BoxPublicKey(
            bytes: Hex.decode("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")!)
        #expect(throws: SodiumError.lowOrderPoint) { try SealedBox.seal([1, 2, 3], to: lowOrder) }
        #expect(throws: SodiumError.lowOrderPoint) {
            try SealedBox.seal([], to: try BoxPublicKey(bytes: Array(repeating: 0, count: 32)))
        }
    }
}
