internal import CZeroMQ

/// The socket patterns the pipeline uses.
public enum SocketKind: Sendable, CaseIterable, CustomStringConvertible {
    case router, dealer, push, pull, request, reply, publish, subscribe, pair
    /// Raw TCP bytes per connection; `BoundedRouter` speaks ZMTP over it.
    case stream

    var rawType: Int32 {
        switch self {
        case .router: ZMQ_ROUTER
        case .dealer: ZMQ_DEALER
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .request: ZMQ_REQ
        case .reply: ZMQ_REP
        case .publish: ZMQ_PUB
        case .subscribe: ZMQ_SUB
        case .pair: ZMQ_PAIR
        case .stream: ZMQ_STREAM
        }
    }

    public var description: String {
        switch self {
        case .router: "ROUTER"
        case .dealer: "DEALER"
        case .push: "PUSH"
        case .pull: "PULL"
        case .request: "REQ"
        case .reply: "REP"
        case .publish: "PUB"
        case .subscribe: "SUB"
        case .pair: "PAIR"
        case .stream: "STREAM"
        }
    }
}
