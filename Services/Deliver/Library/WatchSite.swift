// WatchSite: delivery's web side (the README's "Delivery") as a Hummingbird router. A request
// reaches a file only through its token's hash in the state: the token names a
// row, the row names a file in `<state>/videos/`. Video bodies report what they
// wrote to the access ledger, which decides when the link is used up.
import Hummingbird
import Logging
import MathreelCore
import MathreelSpool
import MathreelSystem
import MathreelWeb

public struct WatchSite: Sendable {
    let store: LinkStore
    let spool: Spool
    let ledger: AccessLedger
    let videos: String
    let ready: Double
    let logger: Logger

    public init(store: LinkStore, spool: Spool, ledger: AccessLedger, videos: String, ready: Double, logger: Logger) {
        self.store = store; self.spool = spool; self.ledger = ledger; self.videos = videos; self.ready = ready; self.logger = logger
    }

    /// The watch page has no script; its video, poster and captions come from this site.
    static let policy = "default-src 'none'; media-src 'self'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    public func router() -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        router.add(middleware: SecurityHeaders(htmlPolicy: WatchSite.policy))
        router.get("/v/:token") { _, context in self.page(context.parameters.get("token")) }
        router.get("/v/:token/video") { request, context in try await self.video(request, context, attachment: false) }
        router.get("/v/:token/download") { request, context in try await self.video(request, context, attachment: true) }
        router.get("/v/:token/poster.jpg") { _, context in self.extra(context, \.poster, type: "image/jpeg") }
        router.get("/v/:token/captions.vtt") { _, context in self.extra(context, \.captions, type: "text/vtt; charset=utf-8") }
        router.get("/health") { _, _ in Response(status: .ok, headers: [.contentType: "application/json"],
                                                  body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#))) }
        return router
    }

    // MARK: Which link

    enum Lookup { case live(Token, Link), gone(expired: Bool), unknown, broken }

    func lookup(_ raw: String?, now: Double = Date().timeIntervalSince1970) -> Lookup {
        guard let raw, let token = Token(parsing: raw[...]) else { return .unknown }
        let found: Link?
        do { found = try store.link(token) } catch {
            logger.error("could not read the links", metadata: ["error": "\(error)"])
            return .broken
        }
        guard let link = found else { return .unknown }
        if let gone = link.gone { return .gone(expired: gone == "expired") }
        // The job must still be waiting in ready/: the janitor may have expired it meanwhile.
        switch spool.locate(link.jobID) {
        case .ready?, .active(.ready)?:
            return now > link.expiresAt ? .gone(expired: true) : .live(token, link)
        case .failed?:
            _ = try? store.markGone(jobID: link.jobID, reason: "expired")
            return .gone(expired: true)
        default:
            _ = try? store.markGone(jobID: link.jobID, reason: "watched")
            return .gone(expired: false)
        }
    }

    func html(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    func refusal(_ lookup: Lookup) -> Response {
        switch lookup {
        case .gone(let expired): html(.gone, Pages.gone(expired: expired))
        case .broken: html(.internalServerError, Pages.broken)
        case .unknown, .live: html(.notFound, Pages.notFound)
        }
    }

    // MARK: Routes

    func page(_ raw: String?) -> Response {
        let found = lookup(raw)
        guard case .live(let token, let link) = found else { return refusal(found) }
        return html(.ok, Pages.watch(link, base: "/v/\(token.text)", ready: ready))
    }

    func video(_ request: Request, _ context: BasicRequestContext, attachment: Bool) async throws -> Response {
        let found = lookup(context.parameters.get("token"))
        guard case .live(let token, let link) = found else { return refusal(found) }
        let path = videos + "/" + link.video
        guard let size = PlainFile.regularSize(path), size > 0 else {
            logger.error("a live link's video is missing", metadata: ["job_id": "\(link.jobID)"])
            return html(.gone, Pages.gone(expired: false))
        }
        let etag = "\"\(link.jobID.prefix(8))-\(size)\""
        var headers: HTTPFields = [.contentType: link.contentType, .acceptRanges: "bytes", .eTag: etag]
        if attachment {
            headers[.contentDisposition] = "attachment; filename=\"mathreel-\(link.jobID.prefix(8)).\(link.video.split(separator: ".").last ?? "mp4")\""
        }
        var asked = RangeRequest(header: request.headers[.range], size: size)
        // If-Range with another validator: the file changed for that client, so it gets all of it.
        if let ifRange = request.headers[.ifRange], ifRange != etag { asked = .whole }
        let range: ClosedRange<Int64>
        switch asked {
        case .unsatisfiable:
            headers[.contentRange] = "bytes */\(size)"
            return Response(status: .rangeNotSatisfiable, headers: headers, body: .init())
        case .whole:
            range = 0...(size - 1)
        case .part(let r):
            range = r
            headers[.contentRange] = "bytes \(r.lowerBound)-\(r.upperBound)/\(size)"
        }
        let ledger = self.ledger
        let body = ResponseBody(contentLength: range.count) { writer in
            await ledger.began(token)
            do {
                let wrote = try await FileBody.send(path, range: range, to: &writer)
                // Every byte is out: that is the transfer, whether or not the client stays for the
                // response's end (one that hangs up at once fails `finish`, and was not counted).
                if wrote == range.count { await ledger.served(token, link, range, download: attachment) }
                try await writer.finish(nil)
            } catch {
                await ledger.ended(token)
                throw error
            }
            await ledger.ended(token)
        }
        return Response(status: asked == .whole ? .ok : .partialContent, headers: headers, body: body)
    }

    /// The poster or captions of a live link; they do not count as access.
    func extra(_ context: BasicRequestContext, _ field: KeyPath<Link, String?>, type: String) -> Response {
        let found = lookup(context.parameters.get("token"))
        guard case .live(_, let link) = found else { return refusal(found) }
        guard let name = link[keyPath: field], let size = PlainFile.regularSize(videos + "/" + name), size <= 4 << 20,
              let bytes = try? PlainFile.read(videos + "/" + name) else { return html(.notFound, Pages.notFound) }
        return Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
