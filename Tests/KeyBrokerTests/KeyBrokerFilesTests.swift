import Foundation
import GRDB
import KeyBroker
import Sodium
import Testing

@Suite("Key broker: file modes and erased keys")
struct KeyBrokerFilesTests {
    static func mode(_ path: String) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! Int
    }

    @Test("kms.sqlite is made 0600 whatever the umask, and an existing 0644 one is narrowed on open")
    func databaseMode() throws {
        let f = try BrokerFixture()
        let path = f.configuration.statePath
        let previous = umask(0o022)
        defer { umask(previous) }
        _ = try f.openBroker()
        #expect(try Self.mode(path) == 0o600)
        #expect(try Self.mode(f.configuration.rootKeyPath) == 0o600)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        _ = try f.openStore()
        #expect(try Self.mode(path) == 0o600)
    }

    @Test("state directories are made 0700; an existing open one is reported, not changed")
    func directoryMode() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("kms-dir-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: base) }
        let previous = umask(0o022)
        defer { umask(previous) }
        let nested = base.appendingPathComponent("a/b")
        #expect(try PrivateDirectory.prepare(nested.path) == nil)
        #expect(try Self.mode(base.path) == 0o700)
        #expect(try Self.mode(nested.deletingLastPathComponent().path) == 0o700)
        #expect(try Self.mode(nested.path) == 0o700)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: nested.path)
        let warning = try PrivateDirectory.prepare(nested.path)
        #expect(warning?.contains("mode 0755") == true)
        #expect(warning?.contains("chmod 700 \(nested.path)") == true)
        #expect(try Self.mode(nested.path) == 0o755)
        let file = base.appendingPathComponent("plain")
        try Data().write(to: file)
        #expect(throws: KeyBrokerError.storeUnwritable(path: file.path, reason: "not a directory")) {
            try PrivateDirectory.prepare(file.path)
        }
    }

    @Test("an erased epoch key leaves none of its stored bytes in kms.sqlite (secure_delete)")
    func erasedKeyBytesAreGone() throws {
        let f = try BrokerFixture()
        let broker = try f.openBroker()
        let path = f.configuration.statePath
        var configuration = Configuration()
        configuration.readonly = true
        let stored = try DatabaseQueue(path: path, configuration: configuration).read { db in
            try Row.fetchOne(db, sql: "SELECT public, sealed FROM secrets WHERE name = 'box:shard-0:1'")
        }
        let publicKey = [UInt8](try #require(stored)["public"] as Data)
        let sealed = [UInt8](try #require(stored)["sealed"] as Data)
        #expect(publicKey.count == 32 && sealed.count > 40)
        // The scan finds them while they are live, so its finding nothing later means something.
        let before = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Self.contains(before, sealed))
        #expect(Self.contains(before, publicKey))

        f.clock.advance(by: 600)
        _ = try broker.rotateIfDue()
        f.clock.advance(by: 600)
        _ = try broker.rotateIfDue()
        #expect(try broker.store.boxKeyPair(role: "shard-0", epoch: 1) == nil)
        let after = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(!Self.contains(after, sealed))
        #expect(!Self.contains(after, Array(sealed.suffix(48))))
        #expect(!Self.contains(after, publicKey))
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return false }
        let first = needle[0]
        var start = 0
        while start <= haystack.count - needle.count {
            if haystack[start] == first, haystack[start..<start + needle.count].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }
}
