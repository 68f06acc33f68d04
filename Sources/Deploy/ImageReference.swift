/// A container image named by digest (`REPOSITORY@sha256:HEX`): the only form rendered
/// manifests accept, so that what runs is exactly what was measured and no tag can move.
public struct ImageReference: Sendable, Hashable, CustomStringConvertible {
    public let repository: String
    /// The 64 lower-case hex digits after `sha256:`.
    public let digest: String

    /// Parses `REPOSITORY@sha256:HEX`; a tag, a missing digest or a short one is an error.
    public init(_ text: String) throws(DeployError) {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("sha256:") else {
            throw DeployError(
                "--image", "\"\(text)\" is not an image by digest (REPOSITORY@sha256:HEX, as Scripts/image.sh prints)")
        }
        let hex = parts[1].dropFirst("sha256:".count)
        guard hex.count == 64, hex.allSatisfy({ ("0"..."9").contains($0) || ("a"..."f").contains($0) }) else {
            throw DeployError("--image", "\"\(text)\": the digest must be 64 lower-case hex digits")
        }
        let repository = String(parts[0])
        guard !repository.contains(where: { $0.isWhitespace }), repository.last != ":" else {
            throw DeployError("--image", "\"\(text)\": the repository \"\(repository)\" is not a valid name")
        }
        self.repository = repository
        self.digest = String(hex)
    }

    public var description: String { "\(repository)@sha256:\(digest)" }
}
