/// Stable error codes the key broker carries in `KMSStatus.error`. Part of the broker protocol,
/// so both the broker and its clients (which retry `busy`) read them from here.
public enum KMSErrorCode {
    /// The request could not be decoded or broke a limit.
    public static let malformedRequest = 1
    /// Something failed inside the broker; the request may be retried.
    public static let internalError = 2
    /// Too many outstanding nonces (for this peer or in all): retry with back-off.
    public static let busy = 3
}
