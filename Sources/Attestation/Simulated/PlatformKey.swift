public import Foundation
public import Sodium

/// The simulated TEE's platform key: an Ed25519 key that stands in for a CPU vendor's
/// attestation key. The key broker trusts its public half; whoever holds the secret half can
/// sign any measurement, which is why the simulation proves nothing against its operator.
///
/// Files (`sealpipe platform init --out DIR`): `platform.key` is "SPPLATK1" followed by the
/// 32-byte seed, mode 0600; `platform.pub` is the public key as lower-case hex and a newline.
public struct PlatformKey: Sendable {
    public static let secretFileName = "platform.key"
    public static let publicFileName = "platform.pub"
    static let fileMagic: [UInt8] = Array("SPPLATK1".utf8)

    public let keyPair: SigningKeyPair
    public var publicKey: SigningPublicKey { keyPair.publicKey }

    public init(keyPair: SigningKeyPair) {
        self.keyPair = keyPair
    }

    public static func generate() -> PlatformKey {
        PlatformKey(keyPair: .generate())
    }

    /// Makes a new key and writes both files into `directory` (created if needed). Refuses to
    /// overwrite an existing key file.
    @discardableResult
    public static func create(in directory: URL) throws(AttestationError) -> PlatformKey {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory.path, reason: "cannot create directory (\(error.localizedDescription))")
        }
        let key = generate()
        let secretURL = directory.appendingPathComponent(secretFileName)
        let publicURL = directory.appendingPathComponent(publicFileName)
        if FileManager.default.fileExists(atPath: publicURL.path) {
            throw .io(path: publicURL.path, reason: "already exists; refusing to overwrite a platform key")
        }
        let contents = SecureBytes(count: fileMagic.count + 32)
        let seed = key.keyPair.secretKey.seed
        contents.withUnsafeMutableBytes { out in
            for (i, byte) in fileMagic.enumerated() { out[i] = byte }
            seed.withUnsafeBytes { s in
                for i in 0..<32 { out[fileMagic.count + i] = s[i] }
            }
        }
        try SecretFile.createExclusive(at: secretURL, contents: contents)
        do {
            try Data((Hex.encode(key.publicKey.bytes) + "\n").utf8).write(to: publicURL, options: .withoutOverwriting)
        } catch {
            throw .io(path: publicURL.path, reason: "cannot write public key (\(error.localizedDescription))")
        }
        return key
    }

    /// Loads `platform.key`; refuses a file that group or others can read or write.
    public static func load(from url: URL) throws(AttestationError) -> PlatformKey {
        let contents = try SecretFile.read(at: url, expectedCount: fileMagic.count + 32)
        let magicMatches = contents.withUnsafeBytes { Array($0.prefix(fileMagic.count)) == fileMagic }
        guard magicMatches else {
            throw .malformed(what: url.path, reason: "is not a sealpipe platform key (no SPPLATK1 header)")
        }
        let seed = SecureBytes(count: 32)
        contents.withUnsafeBytes { c in
            seed.withUnsafeMutableBytes { s in
                for i in 0..<32 { s[i] = c[fileMagic.count + i] }
            }
        }
        do {
            return PlatformKey(keyPair: try SigningKeyPair(seed: seed))
        } catch {
            throw .malformed(what: url.path, reason: "seed rejected (\(error))")
        }
    }

    /// Reads a `platform.pub` file (hex, surrounding whitespace ignored).
    public static func loadPublicKey(from url: URL) throws(AttestationError) -> SigningPublicKey {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw .io(path: url.path, reason: "cannot read (\(error.localizedDescription))")
        }
        return try parsePublicKey(text, source: url.path)
    }

    /// Parses a platform public key written as 64 hex digits.
    public static func parsePublicKey(_ text: String, source: String = "platform public key") throws(AttestationError)
        -> SigningPublicKey
    {
        guard let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? SigningPublicKey(bytes: bytes)
        else {
            throw .malformed(what: source, reason: "is not a 32-byte Ed25519 public key in hex")
        }
        return key
    }
}
