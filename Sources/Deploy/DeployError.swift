/// Why a topology cannot be rendered for a deployment target, naming the option or the
/// topology field at fault.
public struct DeployError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is: an option (`--image`) or a topology path (`gateway.front`).
    public let place: String
    public let message: String

    public init(_ place: String, _ message: String) {
        self.place = place
        self.message = message
    }

    public var description: String { "\(place): \(message)" }
}
