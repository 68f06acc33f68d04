import Sodium
import Testing
import Trust
import Wire

@Suite("Key bundle encoding")
struct KeyBundleTests {
    static let broker = SigningKeyPair.generate()

    static func bundle(weightKey: SecureBytes? = .random(count: 32)) -> KeyBundle {
        let signing = [
            EpochSigningKeyPair(epoch: 7, keyPair: .generate()), EpochSigningKeyPair(epoch: 6, keyPair: .generate()),
        ]
        return KeyBundle(
            role: "shard-0", pipelineID: "demo",
            schedule: EpochSchedule(epoch: 7, startsAt: 1000, endsAt: 2000, graceMilliseconds: 300),
            boxKeys: [EpochKeyPair(epoch: 7, keyPair: .generate()), EpochKeyPair(epoch: 6, keyPair: .generate())],
            signingKeys: signing,
            neighbours: [
                NeighbourKeys(
                    role: "preprocessor",
                    signingKeys: [EpochSigningPublicKey(epoch: 7, key: SigningKeyPair.generate().publicKey)],
                    boxKeys: [EpochPublicKey(epoch: 7, key: BoxKeyPair.generate().publicKey)]),
                NeighbourKeys(role: "postprocessor", signingKeys: [], boxKeys: []),
            ],
            weightKey: weightKey,
            certificate: RoleCertificate(
                pipelineID: "demo", role: "shard-0", epoch: 7, signingKey: signing[0].keyPair.publicKey.bytes,
                notAfter: 2300
            ).signed(with: broker))
    }

    @Test("a bundle sealed to an ephemeral key opens to the same keys, and only with that key")
    func sealOpen() throws {
        let original = Self.bundle()
        let ephemeral = BoxKeyPair.generate()
        let sealed = try original.sealed(to: ephemeral.publicKey)
        let opened = try KeyBundle.open(sealed, with: ephemeral)
        #expect(opened.role == "shard-0")
        #expect(opened.schedule == original.schedule)
        #expect(opened.boxKeys.map(\.epoch) == [7, 6])
        #expect(opened.boxKeyPair(epoch: 6)?.publicKey == original.boxKeys[1].keyPair.publicKey)
        #expect(
            opened.boxKeyPair(epoch: 7)!.secretKey.secret.constantTimeEquals(
                original.boxKeys[0].keyPair.secretKey.secret))
        #expect(opened.signingKeys.map(\.epoch) == [7, 6])
        #expect(opened.signingKeyPair(epoch: 6)?.publicKey == original.signingKeys[1].keyPair.publicKey)
        #expect(opened.certificate == original.certificate)
        #expect(opened.certificateProblem(pinnedBrokerKey: Self.broker.publicKey) == nil)
        #expect(opened.neighbours == original.neighbours)
        #expect(opened.weightKey!.constantTimeEquals(original.weightKey!))
        #expect(throws: KeyBundleError.couldNotOpen) { try KeyBundle.open(sealed, with: .generate()) }
        var tampered = sealed
        tampered[60] ^= 1
        #expect(throws: KeyBundleError.couldNotOpen) { try KeyBundle.open(tampered, with: ephemeral) }
    }

    @Test("a bundle without a weight key has none; malformed bytes are refused")
    func noWeightKeyAndMalformed() throws {
        let encoded = Self.bundle(weightKey: nil).encoded()
        #expect(try KeyBundle(decoding: encoded).weightKey == nil)
        let bytes = encoded.copyBytes()
        #expect(throws: KeyBundleError.self) { try KeyBundle(decoding: SecureBytes(copying: bytes.dropLast())) }
        #expect(throws: KeyBundleError.self) { try KeyBundle(decoding: SecureBytes(copying: bytes + [0])) }
        var badMagic = bytes
        badMagic[0] ^= 1
        #expect(throws: KeyBundleError.self) { try KeyBundle(decoding: SecureBytes(copying: badMagic)) }
    }
}
