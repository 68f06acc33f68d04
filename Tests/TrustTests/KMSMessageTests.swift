import Attestation
import Foundation
import Sodium
import Testing
import Trust

@Suite("Key broker messages")
struct KMSMessageTests {
    func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("requests and replies have the JSON shape docs/kms.md documents, and round-trip")
    func shapes() throws {
        #expect(try json(KMSRequest.nonce(role: "shard-0")) == #"{"nonce":{"role":"shard-0"}}"#)
        #expect(try json(KMSRequest.manifest) == #"{"manifest":{}}"#)
        #expect(try json(KMSRequest.treeHead) == #"{"treeHead":{}}"#)
        #expect(
            try json(KMSRequest.inclusionProof(index: 1, treeSize: 2))
                == #"{"inclusionProof":{"index":1,"treeSize":2}}"#)
        #expect(try json(KMSRequest.consistencyProof(from: 1, to: 2)) == #"{"consistencyProof":{"from":1,"to":2}}"#)
        let attest = KMSRequest.attest(
            AttestRequest(
                role: "r", nonce: [1], ephemeralPublicKey: try BoxPublicKey(bytes: [UInt8](repeating: 2, count: 32)),
                evidence: Evidence(kind: .simulated, report: [3])))
        #expect(try json(attest).hasPrefix(#"{"attest":{"_0":{"ephemeralPublicKey":"0202"#))
        #expect(try json(attest).contains(#""evidence":{"certificates":[],"kind":"simulated","report":"Aw=="}"#))
        #expect(try KMSRequest(decoding: try attest.encoded()) == attest)

        let refused = KMSResponse(status: .refused(check: "measurement", reason: "no"))
        #expect(try json(refused) == #"{"status":{"refused":{"check":"measurement","reason":"no"}}}"#)
        #expect(try json(KMSResponse(status: .ok)) == #"{"status":{"ok":{}}}"#)
        #expect(
            try json(KMSResponse(status: .error(code: 1, message: "m")))
                == #"{"status":{"error":{"code":1,"message":"m"}}}"#)
        let grant = KMSResponse(status: .ok, nonce: NonceGrant(nonce: [9], expiresAt: 5))
        #expect(try KMSResponse(decoding: try grant.encoded()) == grant)
        #expect(throws: (any Error).self) { try KMSRequest(decoding: Array(#"{"launch":{}}"#.utf8)) }
    }
}
