// WebServer: what the two daemons with a web side (ingest, deliver) share: a
// Hummingbird application on a configured address that counts toward READY=1
// once it listens, with a cap on open connections and an idle timeout (a client
// that stops sending mid-request is closed, so slow clients cannot pile up), the
// request context that knows the peer's address, and the headers every answer carries.
import Hummingbird
import HummingbirdCore
import Logging
import MathreelCore
import MathreelDaemon
import NIOCore

public enum WebServer {
    /// The site on `address`; `readiness` gets its part once the socket listens.
    public static func application<Router: HTTPResponderBuilder>(
        router: Router, address: ListenAddress, readiness: Readiness, what: String, logger: Logger, metadata: Logger.Metadata = [:],
        maxConnections: Int = 512, idleTimeout: Int64 = 30
    ) -> Application<Router.Responder> {
        Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .seconds(idleTimeout))),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil,
                                 availableConnectionsDelegate: MaximumAvailableConnections(maxConnections, logger: logger)),
            onServerRunning: { channel in
                var m = metadata
                m["address"] = "\(channel.localAddress.map { "\($0)" } ?? "?")"
                logger.info("\(what) listening", metadata: m)
                readiness.partReady()
            },
            logger: logger)
    }

    /// A header name not in HTTPTypes' list.
    public static func field(_ name: String) -> HTTPFields.Element.Name { HTTPFields.Element.Name(name)! }
}

/// A request context that knows the address of the peer that connected.
public struct PeerContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The peer's IP address, when it has one (not a Unix socket).
    public var peer: IPAddress? { remoteAddress?.ipAddress.flatMap(IPAddress.init) }
}

/// Headers every answer carries: nothing is cached, sniffed, framed or leaked
/// through a Referer; HTML also gets the site's content security policy.
public struct SecurityHeaders<Context: RequestContext>: RouterMiddleware {
    let htmlPolicy: String
    public init(htmlPolicy: String) { self.htmlPolicy = htmlPolicy }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[WebServer.field("Referrer-Policy")] = "no-referrer"
        if response.headers[.contentType]?.hasPrefix("text/html") == true {
            response.headers[.contentSecurityPolicy] = htmlPolicy
        }
        return response
    }
}
