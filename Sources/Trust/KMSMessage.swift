public import Attestation
import Foundation
public import Sodium

/// A request to the key broker (one ZeroMQ message, JSON, one reply each).
public enum KMSRequest: Sendable, Hashable, Codable {
    /// Ask for a one-time nonce to bind into evidence for `role`.
    case nonce(role: String)
    /// Present evidence and ask for `role`'s key bundle.
    case attest(AttestRequest)
    /// Fetch the current pipeline manifest.
    case manifest
    /// Fetch the latest signed tree head.
    case treeHead
    /// Inclusion proof for the entry at `index` in the tree of `treeSize` entries.
    case inclusionProof(index: UInt64, treeSize: UInt64)
    /// Consistency proof between two tree sizes.
    case consistencyProof(from: UInt64, to: UInt64)
    /// The log entry at `index` (canonical bytes), with its inclusion proof under the latest
    /// signed tree head: what a receipt verifier fetches for each key release a receipt cites.
    case entry(index: UInt64)

    /// Largest request the broker reads; evidence with a certificate chain fits well within.
    public static let maximumEncodedSize = 1 << 20

    public func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    public init(decoding bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(KMSRequest.self, from: Data(bytes))
    }
}

/// Evidence for one key request.
public struct AttestRequest: Sendable, Hashable, Codable {
    public var role: String
    public var nonce: [UInt8]
    /// The node's fresh X25519 key; the bundle is sealed to it and the evidence must bind it.
    public var ephemeralPublicKey: BoxPublicKey
    public var evidence: Evidence
    /// SHA-256 of the topology file the node runs, lower-case hex; a broker configured with a
    /// topology digest refuses any other (check `topology`). The evidence's measurement binds the
    /// same digest, so a node that names the broker's digest but runs another file is refused too.
    public var topologyDigest: String?

    public init(
        role: String, nonce: [UInt8], ephemeralPublicKey: BoxPublicKey, evidence: Evidence,
        topologyDigest: String? = nil
    ) {
        self.role = role
        self.nonce = nonce
        self.ephemeralPublicKey = ephemeralPublicKey
        self.evidence = evidence
        self.topologyDigest = topologyDigest
    }
}

/// The broker's answer. Exactly the fields the request asked for are set when `status` is `ok`.
public struct KMSResponse: Sendable, Hashable, Codable {
    public var status: KMSStatus
    public var nonce: NonceGrant?
    /// The role's `KeyBundle`, sealed to the request's ephemeral key.
    public var sealedBundle: [UInt8]?
    /// The broker's identity signature over the release (`BundleRelease`); a node refuses a
    /// bundle without it.
    public var bundleSignature: [UInt8]?
    public var manifest: PipelineManifest?
    public var treeHead: SignedTreeHead?
    public var proof: [[UInt8]]?
    /// A log entry's canonical bytes (`entry` requests).
    public var entry: [UInt8]?

    public init(
        status: KMSStatus, nonce: NonceGrant? = nil, sealedBundle: [UInt8]? = nil, bundleSignature: [UInt8]? = nil,
        manifest: PipelineManifest? = nil, treeHead: SignedTreeHead? = nil, proof: [[UInt8]]? = nil,
        entry: [UInt8]? = nil
    ) {
        self.entry = entry
        self.status = status
        self.nonce = nonce
        self.sealedBundle = sealedBundle
        self.bundleSignature = bundleSignature
        self.manifest = manifest
        self.treeHead = treeHead
        self.proof = proof
    }

    public func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    public init(decoding bytes: [UInt8]) throws {
        self = try JSONDecoder().decode(KMSResponse.self, from: Data(bytes))
    }
}

/// Outcome of a broker request.
public enum KMSStatus: Sendable, Hashable, Codable {
    case ok
    /// Refused by a named check (`nonce-reused`, `measurement`, `report-data`, …).
    case refused(check: String, reason: String)
    /// The request could not be served (`code` stable, `message` for a person).
    case error(code: Int, message: String)
}

/// A one-time nonce and when it stops being accepted (ms since the Unix epoch).
public struct NonceGrant: Sendable, Hashable, Codable {
    public var nonce: [UInt8]
    public var expiresAt: UInt64

    public init(nonce: [UInt8], expiresAt: UInt64) {
        self.nonce = nonce
        self.expiresAt = expiresAt
    }
}
