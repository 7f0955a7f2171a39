// WebServer: what the two daemons with a web side (ingest, deliver) share: a
// Hummingbird application on a configured address that counts toward READY=1
// once it listens, and the headers every answer carries.
import Hummingbird
import Logging
import MathreelCore
import MathreelDaemon

public enum WebServer {
    /// The site on `address`; `readiness` gets its part once the socket listens.
    public static func application<Router: HTTPResponderBuilder>(
        router: Router, address: ListenAddress, readiness: Readiness, what: String, logger: Logger, metadata: Logger.Metadata = [:]
    ) -> Application<Router.Responder> {
        Application(
            router: router,
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: nil),
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
