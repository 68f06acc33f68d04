import Foundation
import Sodium
import TestVectors
import Testing

/// Decodes a hex field, failing the test (not crashing) when it is missing or not hex.
func hexField(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    let text = try #require(value as? String, sourceLocation: sourceLocation)
    return try #require(Hex.decode(text), sourceLocation: sourceLocation)
}

@Suite("Sealed box and NaCl vectors")
struct SealedBoxVectorTests {
    struct SealedCase {
        let keyPair: BoxKeyPair
        let plaintext: [UInt8]
        let ciphertext: [UInt8]
    }

    /// pynacl's `sealed_box_ref.txt`: sk, pk, `len:plaintext`, `len:ciphertext`, tab-separated.
    static func sealedCases() throws -> [SealedCase] {
        try TestVectors.text("libsodium/pynacl/sealed_box_ref.txt").split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { line in
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
                func lengthPrefixed(_ field: String) throws -> [UInt8] {
                    let parts = field.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                    let bytes = try hexField(String(parts[1]))
                    #expect(bytes.count == Int(parts[0]))
                    return bytes
                }
                let secret = try BoxSecretKey(secret: SecureBytes(copying: try hexField(fields[0])))
                #expect(secret.publicKey.bytes == Hex.decode(fields[1]))
                return SealedCase(
                    keyPair: BoxKeyPair(secretKey: secret), plaintext: try lengthPrefixed(fields[2]),
                    ciphertext: try lengthPrefixed(fields[3]))
            }
    }

    @Test func knownAnswerSealedBoxesOpen() throws {
        let cases = try Self.sealedCases()
        #expect(cases.map(\.plaintext.count) == [131, 0, 1])
        for vector in cases {
            let opened = try SealedBox.open(vector.ciphertext, with: vector.keyPair)
            #expect(opened.copyBytes() == vector.plaintext)
        }
    }

    @Test func tamperedOrTruncatedKnownAnswerBoxesAreRefused() throws {
        for vector in try Self.sealedCases() {
            var flipped = vector.ciphertext
            flipped[flipped.count - 1] ^= 0x01
            #expect(throws: SodiumError.couldNotOpen) { try SealedBox.open(flipped, with: vector.keyPair) }
            #expect(throws: SodiumError.couldNotOpen) {
                try SealedBox.open(Array(vector.ciphertext.dropLast()), with: vector.keyPair)
            }
        }
    }

    @Test func seedKeyPairsMatchPyNaCl() throws {
        let lines = try TestVectors.text("libsodium/pynacl/box_from_seed.txt").split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(!lines.isEmpty)
        for line in lines {
            let fields = line.split(separator: "\t").map(String.init)
            let expected = try hexField(fields[1])
            let pair = try BoxKeyPair(seed: try hexField(fields[0]))
            #expect(pair.publicKey.bytes == Array(expected.prefix(32)))
            #expect(pair.secretKey.secret.copyBytes() == Array(expected.suffix(32)))
        }
    }

    @Test func naclBoxKnownAnswers() throws {
        let katJSON = try TestVectors.json("libsodium/libsodium/nacl_box_kat.json")
        let kat = try #require(katJSON as? [String: Any])
        let keys = try #require(kat["keys"] as? [String: String])
        func secret(_ name: String) throws -> BoxSecretKey {
            try BoxSecretKey(secret: SecureBytes(copying: try hexField(keys[name])))
        }
        func bytes(_ value: Any?) throws -> [UInt8] { try hexField(value) }
        let alice = try secret("alice_sk")
        let bob = try secret("bob_sk")
        #expect(alice.publicKey.bytes == (try bytes(keys["alice_pk"])))
        #expect(bob.publicKey.bytes == (try bytes(keys["bob_pk"])))

        // X25519: the shared secret from both sides; the high bit is ignored; low order refused.
        for entry in try #require(kat["x25519"] as? [[String: String]]) {
            if entry["expect"] == "reject" {
                let privateKey = try BoxSecretKey(secret: SecureBytes(copying: try bytes(entry["private"])))
                #expect(throws: SodiumError.lowOrderPoint) {
                    try X25519.sharedSecret(secretKey: privateKey, publicKey: try bytes(entry["public"]))
                }
            } else if let publicHex = entry["public"] {
                let privateKey = try BoxSecretKey(secret: SecureBytes(copying: try bytes(entry["private"])))
                let shared = try X25519.sharedSecret(secretKey: privateKey, publicKey: try bytes(publicHex))
                #expect(shared.copyBytes() == (try bytes(entry["shared"])))
            } else {
                let ab = try X25519.sharedSecret(secretKey: alice, publicKey: bob.publicKey.bytes)
                let ba = try X25519.sharedSecret(secretKey: bob, publicKey: alice.publicKey.bytes)
                #expect(ab.copyBytes() == (try bytes(entry["shared"])))
                #expect(ab.constantTimeEquals(ba))
            }
        }

        // beforenm: the HSalsa20-derived box key.
        let beforenm = try #require(kat["box_beforenm"] as? [String: String])
        let sharedKey = try Box.sharedKey(publicKey: bob.publicKey, secretKey: alice)
        #expect(sharedKey.copyBytes() == (try bytes(beforenm["key"])))

        // crypto_box_easy from Alice to Bob, opened by Bob; any flipped bit refused.
        for entry in try #require(kat["box_easy"] as? [[String: String]]) {
            let nonce = try bytes(entry["nonce"])
            if entry["expect"] == "reject" {
                let sender = try BoxSecretKey(secret: SecureBytes(copying: try bytes(entry["sender_sk"])))
                let lowOrder = try BoxPublicKey(bytes: try bytes(entry["recipient_pk"]))
                #expect(throws: SodiumError.lowOrderPoint) {
                    try Box.seal([1, 2, 3], nonce: nonce, to: lowOrder, from: sender)
                }
                continue
            }
            let plaintext = try bytes(entry["plaintext"])
            let expected = try bytes(entry["ciphertext"])
            let ciphertext = try Box.seal(plaintext, nonce: nonce, to: bob.publicKey, from: alice)
            #expect(ciphertext == expected)
            #expect(try Box.open(ciphertext, nonce: nonce, from: alice.publicKey, to: bob).copyBytes() == plaintext)
            for bit in [0, 7] {
                var tampered = ciphertext
                tampered[tampered.count / 2] ^= UInt8(1 << bit)
                #expect(throws: SodiumError.couldNotOpen) {
                    try Box.open(tampered, nonce: nonce, from: alice.publicKey, to: bob)
                }
            }
        }

        // secretbox with the beforenm key gives the same ciphertext as the box.
        let secretbox = try #require(kat["secretbox"] as? [String: String])
        let key = SecureBytes(copying: try bytes(secretbox["key"]))
        let sealed = try SecretBox.seal(
            try bytes(secretbox["plaintext"]), nonce: try bytes(secretbox["nonce"]), key: key)
        #expect(sealed == (try bytes(secretbox["ciphertext"])))
        #expect(
            try SecretBox.open(sealed, nonce: try bytes(secretbox["nonce"]), key: key).copyBytes()
                == (try bytes(secretbox["plaintext"])))

        let seeded = try #require(kat["box_seed_keypair"] as? [String: String])
        let pair = try BoxKeyPair(seed: try bytes(seeded["seed"]))
        #expect(pair.publicKey.bytes == (try bytes(seeded["pk"])))
        #expect(pair.secretKey.secret.copyBytes() == (try bytes(seeded["sk"])))
    }

    @Test func wycheproofX25519MatchesLibsodiumOutcome() throws {
        let suiteJSON = try TestVectors.json("libsodium/wycheproof/x25519_test.json")
        let suite = try #require(suiteJSON as? [String: Any])
        let outcomeJSON = try TestVectors.json("libsodium/wycheproof/x25519_libsodium_outcome.json")
        let outcome = try #require(outcomeJSON as? [String: Any])
        let rejected = Set(try #require(outcome["rejected"] as? [Int]))
        var accepted = 0
        var refused = 0
        for group in try #require(suite["testGroups"] as? [[String: Any]]) {
            for test in try #require(group["tests"] as? [[String: Any]]) {
                let id = try #require(test["tcId"] as? Int)
                let privateKey = try BoxSecretKey(secret: SecureBytes(copying: try hexField(test["private"])))
                let publicKey = try hexField(test["public"])
                let shared = try hexField(test["shared"])
                do {
                    let result = try X25519.sharedSecret(secretKey: privateKey, publicKey: publicKey)
                    #expect(!rejected.contains(id), "tcId \(id) should have been refused")
                    #expect(result.copyBytes() == shared, "tcId \(id)")
                    accepted += 1
                } catch {
                    #expect(error == .lowOrderPoint)
                    #expect(rejected.contains(id), "tcId \(id) was refused but libsodium accepts it")
                    #expect(shared == [UInt8](repeating: 0, count: 32))
                    refused += 1
                }
            }
        }
        #expect(accepted == (outcome["accepted_count"] as? Int))
        #expect(refused == rejected.count)
    }
}
