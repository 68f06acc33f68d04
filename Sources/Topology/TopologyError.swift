/// One problem found in a topology file, with the exact place it sits.
///
/// The place is a path in the file (`stages[2].layers`, `kms.policy.roles.shard-0`) so that an
/// operator can go straight to the line; an empty path means the file as a whole.
public struct TopologyIssue: Sendable, Hashable, CustomStringConvertible {
    /// Where in the file: dotted keys and `[index]` for list items; empty for the whole file.
    public let path: String
    /// What is wrong, in words an operator can act on.
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// `path: message`, or just the message for the whole file.
    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}

/// Every problem found in a topology file; decoding and validation report them all at once.
public struct TopologyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems in the order of the file.
    public let issues: [TopologyIssue]

    public init(issues: [TopologyIssue]) {
        self.issues = issues
    }

    /// One issue per line.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
