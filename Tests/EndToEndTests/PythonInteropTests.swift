import Foundation
import Sodium
import Testing
import ZeroMQ

/// pyzmq and PyNaCl — two implementations no one here wrote — agree with ours, both ways.
@Suite(
    "Python interop (pyzmq + PyNaCl)", .timeLimit(.minutes(1)),
    .enabled(if: PythonPeer.available, PythonPeer.unavailableReason))
struct PythonInteropTests {
    @Test func pyNaClSealsToSwiftAndSwiftSealsToPyNaCl() throws {
        let context = try ZMQContext()
        let router = try context.socket(.router)
        let endpoint = try router.bind("tcp://127.0.0.1:*")
        let peer = try PythonPeer.start(script: "Scripts/interop/sealed_peer.py", arguments: [endpoint])

        let hello = try #require(try router.receive(timeout: .seconds(20)), "the Python peer never said hello")
        let identity = hello[0]
        let mine = BoxKeyPair.generate()
        try router.send([identity, mine.publicKey.bytes])

        // PyNaCl → Swift.
        let sealedByPython = try #require(try router.receive(timeout: .seconds(10)))
        #expect(sealedByPython.count == 4)
        let opened = try SealedBox.open(sealedByPython[1], with: mine)
        #expect(BLAKE2b.hash(opened.copyBytes(), outputLength: 32) == sealedByPython[3])
        #expect(opened.copyBytes().starts(with: Array("sealed by PyNaCl for Swift: ".utf8)))

        // Swift → PyNaCl.
        let pythonKey = try BoxPublicKey(bytes: sealedByPython[2])
        let message = Array("sealed by Swift for PyNaCl".utf8) + Array(0...255)
        try router.send([identity, try SealedBox.seal(message, to: pythonKey)])
        let digest = try #require(try router.receive(timeout: .seconds(10)))
        #expect(digest[1] == BLAKE2b.hash(message, outputLength: 32))
        #expect(peer.waitForExit() == 0)
    }
}
