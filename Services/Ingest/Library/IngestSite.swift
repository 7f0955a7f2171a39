// IngestSite: ingest's web side (the README's "Sending problems over HTTP") as a Hummingbird router: the webhooks,
// the JSON API with its live events, the web page, /health and /metrics. Every
// error is `{"error": {"code", "message"}}`; bodies stop at 1 MB (413) and must
// arrive within 15 s (408). A body is read once and handed to whoever needs it
// (the signature and the parser alike). Who the client is comes from the peer's
// address, or X-Forwarded-For when the peer is a trusted proxy.
import Hummingbird
import Logging
import MathreelChat
import MathreelCheck
import MathreelCore
import MathreelProviders
import MathreelSessions
import MathreelSpool
import MathreelSystem
import MathreelWeb
import Synchronization

public struct IngestSite: Sendable {
    static let maxBody = 1 << 20
    let intake: Intake
    let telegram: TelegramWebhook
    let whatsapp: WhatsAppWebhook
    let spool: Spool
    let sessions: SessionStore
    let checker: StaticChecker
    let metrics: Metrics
    let apiSecret: String?
    let proxies: [AddressRange]
    let streams: Slots
    let checks: Slots
    let logger: Logger

    /// The page's script is its own file (/app.js), so no inline script is allowed.
    static let policy = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    public func router() -> Router<PeerContext> {
        let router = Router(context: PeerContext.self)
        router.add(middleware: SecurityHeaders(htmlPolicy: IngestSite.policy))
        router.add(middleware: Measured(metrics: metrics))
        router.post("/webhook/telegram") { request, context in try await self.telegramUpdate(request, context) }
        router.get("/webhook/whatsapp") { request, _ in self.whatsappVerify(request) }
        router.post("/webhook/whatsapp") { request, context in try await self.whatsappNotification(request, context) }
        router.post("/api/v1/jobs") { request, context in try await self.submit(request, context, kind: .problem) }
        router.post("/api/v1/code") { request, context in try await self.submit(request, context, kind: .code) }
        router.post("/api/v1/code/validate") { request, context in try await self.validate(request, context) }
        router.get("/api/v1/jobs") { request, _ in self.list(request) }
        router.get("/api/v1/jobs/:id") { request, context in self.show(request, context.parameters.get("id") ?? "") }
        router.post("/api/v1/jobs/:id/scenes/:n/edit") { request, context in
            try await self.edit(request, context, context.parameters.get("id") ?? "", context.parameters.get("n") ?? "")
        }
        router.get("/api/v1/jobs/:id/events") { request, context in self.events(request, context.parameters.get("id") ?? "") }
        router.get("/") { _, _ in IngestSite.page(WebPage.html, type: "text/html; charset=utf-8") }
        router.get("/app.js") { _, _ in IngestSite.page(WebPage.script, type: "text/javascript; charset=utf-8") }
        router.get("/health") { _, _ in self.health() }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
        }
        return router
    }

    // MARK: Answers


    static func json(_ status: HTTPResponse.Status, _ value: JSONValue, headers extra: HTTPFields = [:]) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: value.serialized(pretty: false))))
    }

    static func error(_ r: Refusal) -> Response {
        var headers: HTTPFields = [:]
        if let after = r.retryAfter { headers[.retryAfter] = String(after) }
        return json(.init(code: r.status), .object(["error": .object(["code": .string(r.code), "message": .string(r.message)])]), headers: headers)
    }

    static func error(_ status: Int, _ code: String, _ message: String) -> Response {
        error(Refusal(status: status, code: code, message: message))
    }

    static func page(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// How long a client may take to send a whole body; a part that never comes is the idle timeout's.
    static let bodyDeadline: Duration = .seconds(15)

    /// The body, at most 1 MB, within the deadline. Hummingbird's body can be iterated
    /// once: read it here, once per request, and pass the bytes on.
    func body(_ request: Request) async throws(Refusal) -> [UInt8] {
        let start = ContinuousClock.now
        var out: [UInt8] = []
        do {
            for try await var chunk in request.body {
                guard out.count + chunk.readableBytes <= IngestSite.maxBody else {
                    throw Refusal(status: 413, code: "too_large", message: "The request body is larger than 1 MB.")
                }
                guard ContinuousClock.now - start < IngestSite.bodyDeadline else {
                    throw Refusal(status: 408, code: "too_slow", message: "The request body took longer than 15 s to arrive.")
                }
                out += chunk.readBytes(length: chunk.readableBytes) ?? []
            }
        } catch let r as Refusal {
            throw r
        } catch {
            throw Refusal(status: 400, code: "bad_request", message: "The request body could not be read.")
        }
        return out
    }

    /// A JSON object body, or a 400 that says where it went wrong.
    func jsonObject(_ request: Request, _ bytes: [UInt8]) throws(Refusal) -> JSONObject {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/json") else {
            throw Refusal(status: 415, code: "unsupported_media_type", message: "Send the request as JSON, with Content-Type: application/json.")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch {
            throw Refusal(status: 400, code: "bad_json", message: "The body is not valid JSON: \(error).")
        }
        guard case .object(let o) = value else {
            throw Refusal(status: 400, code: "bad_json", message: "The body must be a JSON object; got \(value.typeName).")
        }
        return o
    }

    // MARK: Webhooks

    func telegramUpdate(_ request: Request, _ context: PeerContext) async throws -> Response {
        guard telegram.authentic(request.headers[WebServer.field("X-Telegram-Bot-Api-Secret-Token")]) else {
            metrics.rejected("bad_secret")
            return IngestSite.error(401, "unauthorized", "The X-Telegram-Bot-Api-Secret-Token header is missing or wrong.")
        }
        do {
            try await telegram.handle(try await body(request))
        } catch { return IngestSite.error(error) }
        return IngestSite.json(.ok, .object([:]))
    }

    func whatsappVerify(_ request: Request) -> Response {
        // The names carry dots, so the raw query is read as is.
        let q = request.uri.queryParameters
        guard let challenge = whatsapp.verify(mode: q["hub.mode"].map(String.init), token: q["hub.verify_token"].map(String.init),
                                              challenge: q["hub.challenge"].map(String.init)) else {
            return IngestSite.error(403, "forbidden", "The verify token does not match WHATSAPP_VERIFY_TOKEN.")
        }
        return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: challenge)))
    }

    func whatsappNotification(_ request: Request, _ context: PeerContext) async throws -> Response {
        let bytes: [UInt8]
        do { bytes = try await body(request) } catch { return IngestSite.error(error) }
        guard whatsapp.authentic(request.headers[WebServer.field("X-Hub-Signature-256")], body: bytes) else {
            metrics.rejected("bad_signature")
            return IngestSite.error(401, "unauthorized", "The X-Hub-Signature-256 header is missing or does not match the body.")
        }
        do { try await whatsapp.handle(bytes) } catch { return IngestSite.error(error) }
        return IngestSite.json(.ok, .object([:]))
    }

    // MARK: API

    /// The caller's session: the one it sent (new when this server has never seen it), or a new one.
    func session(_ given: String?) -> (id: String, person: Person, isNew: Bool) {
        guard let id = given.flatMap({ Token(parsing: $0[...]) })?.text else {
            let id = Token.make().text
            return (id, Person.web(session: id), true)
        }
        let person = Person.web(session: id)
        return (id, person, (try? sessions.session(person)) == nil)
    }

    /// The client's address: the peer's, or, from a trusted proxy, the nearest address in
    /// X-Forwarded-For that is not one of the proxies (the ones before it are the client's to forge).
    func client(_ request: Request, _ context: PeerContext) -> IPAddress? {
        guard let peer = context.peer else { return nil }
        guard proxies.contains(peer) else { return peer }
        let hops = request.headers[values: WebServer.field("X-Forwarded-For")].flatMap { $0.split(separator: ",") }
        for hop in hops.reversed() {
            guard let a = IPAddress(String(hop)) else { return peer }
            if !proxies.contains(a) { return a }
        }
        return peer
    }

    func submit(_ request: Request, _ context: PeerContext, kind: JobKind) async throws -> Response {
        var asker: Person?
        do {
            let bytes = try await body(request)
            let signed = try verifySignature(request, body: bytes)
            let o = try jsonObject(request, bytes)
            let field = kind == .problem ? "problem_text" : "code"
            guard let text = o[field]?.stringValue else {
                throw Refusal(status: 400, code: "invalid_job", message: "`\(field)` is missing or not text.")
            }
            let (sid, person, isNew) = session(o["session_id"]?.stringValue)
            if !isNew { asker = person }
            var s = Submission(person: person, channel: signed ? .api : .web, kind: kind, text: text)
            // A signed caller speaks for many people from one address: its sessions are its own to limit.
            if !signed {
                s.address = client(request, context)?.limitKey ?? "unknown"
                s.newSession = isNew
            }
            s.options = o["options"]
            s.sessionID = person.id
            s.correlationID = request.headers[WebServer.field("X-Correlation-Id")].map { String($0.prefix(128)) }
            let (job, _) = try await intake.submit(s)
            metrics.accepted(s.channel)
            return IngestSite.json(.accepted, .object([
                "job_id": .string(job.id), "status": .string(job.status.rawValue), "created_at": .string(job.createdAt),
                "message": .string("Job \(job.id.prefix(8)) is queued. Follow it at /api/v1/jobs/\(job.id)/events."),
                "session_id": .string(sid),
            ]))
        } catch let r as Refusal {
            // A refused request extends a session that exists; it never creates one.
            if let asker { try? sessions.extend(asker) }
            metrics.rejected(r.code)
            return IngestSite.error(r)
        }
    }

    /// `POST /api/v1/jobs/{id}/scenes/{n}/edit {"prompt", "session_id"}`: a new version of the
    /// caller's own lesson with scene n changed; 202 with the new job, as a submission.
    func edit(_ request: Request, _ context: PeerContext, _ id: String, _ n: String) async throws -> Response {
        do {
            let bytes = try await body(request)
            let signed = try verifySignature(request, body: bytes)
            let o = try jsonObject(request, bytes)
            guard let prompt = o["prompt"]?.stringValue else {
                throw Refusal(status: 400, code: "invalid_job", message: "`prompt` is missing or not text: say what to change in the scene.")
            }
            guard let scene = Int(n), (1...Lesson.maxScenes).contains(scene) else {
                throw Refusal(status: 404, code: ErrorCode.noSuchScene, message: "Scenes are numbered 1 to \(Lesson.maxScenes); there is no scene \(n.prefix(20)).")
            }
            // Only the session that owns the lesson may edit it; anyone else learns nothing of it.
            let sid = o["session_id"]?.stringValue ?? request.uri.queryParameters["session_id"].map(String.init)
            guard let sid, Token(parsing: sid[...]) != nil, JobID.isValid(id),
                  (try? sessions.owns(Person.web(session: sid), jobID: id)) == true else {
                throw Refusal(status: 404, code: "not_found", message: "No job \(id.prefix(36)) for this session.")
            }
            let person = Person.web(session: sid)
            var s = Submission(person: person, channel: signed ? .api : .web, kind: .problem, text: prompt)
            if !signed { s.address = client(request, context)?.limitKey ?? "unknown" }
            s.sessionID = person.id
            s.correlationID = request.headers[WebServer.field("X-Correlation-Id")].map { String($0.prefix(128)) }
            let (job, _) = try await intake.submitEdit(s, parent: id, scene: scene)
            metrics.accepted(s.channel)
            return IngestSite.json(.accepted, .object([
                "job_id": .string(job.id), "parent_id": .string(id), "version": .int(Int64(job.version)), "scene": .int(Int64(scene)),
                "status": .string(job.status.rawValue), "created_at": .string(job.createdAt),
                "message": .string("Version \(job.version) is queued: scene \(scene) is being changed. Follow it at /api/v1/jobs/\(job.id)/events."),
                "session_id": .string(sid),
            ]))
        } catch let r as Refusal {
            metrics.rejected(r.code)
            return IngestSite.error(r)
        }
    }

    /// A signed server-to-server request (MATHREEL_API_SECRET): true when signed and good;
    /// a bad, old or replayed signature is refused.
    func verifySignature(_ request: Request, body: [UInt8]) throws(Refusal) -> Bool {
        guard let signature = request.headers[WebServer.field("X-Signature")] else { return false }
        guard let secret = apiSecret, !secret.isEmpty else {
            throw Refusal(status: 401, code: "unauthorized", message: "This server takes no signed requests (MATHREEL_API_SECRET is not set).")
        }
        guard let stamp = request.headers[WebServer.field("X-Timestamp")], let ms = Int64(stamp) else {
            throw Refusal(status: 401, code: "unauthorized", message: "X-Timestamp must be the time in epoch milliseconds.")
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // Any Int64 may arrive: the distance is taken without a trap.
        let (distance, overflow) = now.subtractingReportingOverflow(ms)
        guard !overflow, distance.magnitude <= 300_000 else {
            throw Refusal(status: 401, code: "unauthorized", message: "X-Timestamp is more than 5 minutes away from the server's clock.")
        }
        let expected = SHA256.hexString(SHA256.hmac(key: Array(secret.utf8), Array((stamp + ".").utf8) + body))
        guard SHA256.constantTimeEqual(Array(signature.lowercased().utf8), Array(expected.utf8)) else {
            throw Refusal(status: 401, code: "unauthorized", message: "X-Signature does not match hex(HMAC_SHA256(secret, timestamp + \".\" + body)).")
        }
        // Seen signatures are kept in the state, so a restart does not reopen the window.
        let fresh: Bool
        do { fresh = try sessions.take("signature:" + expected, jobID: nil) } catch {
            logger.error("could not record a signed request", metadata: ["error": "\(error)"])
            throw Refusal(status: 503, code: "state_unavailable", message: "The request could not be checked just now. Try again in a minute.", retryAfter: 60)
        }
        guard fresh else {
            throw Refusal(status: 401, code: "unauthorized", message: "This signed request was already received (a replay).")
        }
        return true
    }

    func validate(_ request: Request, _ context: PeerContext) async throws -> Response {
        // Checks run one at a time in one worker: past a short queue, callers are told to come back.
        guard checks.acquire("all") else {
            return IngestSite.error(Refusal(status: 429, code: "busy", message: "Too many code checks are waiting. Try again in a few seconds.", retryAfter: 5))
        }
        defer { checks.release("all") }
        do {
            let o = try jsonObject(request, try await body(request))
            guard let code = o["code"]?.stringValue else { throw Refusal(status: 400, code: "invalid_job", message: "`code` is missing or not text.") }
            guard code.utf8.count <= 50_000 else { throw Refusal(status: 413, code: "too_large", message: "Code is limited to 50 KB.") }
            let r = try await checker.check(code)
            func list(_ f: [Finding]) -> JSONValue { .array(f.map { .object(["line": .int(Int64($0.line)), "message": .string($0.message)]) }) }
            return IngestSite.json(.ok, .object(["valid": .bool(r.valid), "errors": list(r.errors), "warnings": list(r.warnings),
                                                  "scene": r.scene.map(JSONValue.string) ?? .null]))
        } catch let r as Refusal {
            return IngestSite.error(r)
        } catch {
            logger.error("the static check could not run", metadata: ["error": "\(error)"])
            return IngestSite.error(503, "check_unavailable", "The code check could not run just now. Try again in a minute.")
        }
    }

    /// Whose job this is: the session in the query must own it; anyone else gets 404.
    func owned(_ request: Request, _ id: String) -> (Person, FoundJob)? {
        guard JobID.isValid(id), let sid = request.uri.queryParameters["session_id"].map(String.init) else { return nil }
        let person = Person.web(session: sid)
        guard (try? sessions.owns(person, jobID: id)) == true, let found = spool.find(id) else { return nil }
        return (person, found)
    }

    func show(_ request: Request, _ id: String) -> Response {
        guard let (_, found) = owned(request, id) else { return IngestSite.error(404, "not_found", "No job \(id) for this session.") }
        return IngestSite.json(.ok, JobView.object(found, history: true))
    }

    func list(_ request: Request) -> Response {
        guard let sid = request.uri.queryParameters["session_id"].map(String.init), Token(parsing: sid[...]) != nil else {
            return IngestSite.error(400, "bad_request", "Give the session as ?session_id=... (the one job submissions returned).")
        }
        let jobs = ((try? sessions.history(Person.web(session: sid))) ?? []).map { j -> JSONValue in
            var o: JSONObject = ["job_id": .string(j.jobID), "created_at": .string(Timestamp.string(Date(timeIntervalSince1970: j.createdAt)))]
            if let found = spool.find(j.jobID), case .object(let v) = JobView.object(found, history: false) { o.merge(v) { a, _ in a } } else {
                o["status"] = .string("expired")
            }
            if j.kind == JobKind.problem.rawValue { o["problem"] = .string(j.summary) }
            return .object(o)
        }
        return IngestSite.json(.ok, .object(["session_id": .string(sid), "jobs": .array(jobs)]))
    }

    func health() -> Response {
        var depths: JSONObject = [:]
        for place in [Place.incoming, .codegen, .render, .deliver, .ready, .failed] {
            let names = (try? spool.list(place)) ?? []
            let now = Date().timeIntervalSince1970
            let oldest = names.compactMap { spool.info(place, $0)?.mtime }.min().map { max(0, now - $0) }
            depths[place.path] = .object(["count": .int(Int64(names.count)), "oldest_age_s": oldest.map { .double(($0 * 10).rounded() / 10) } ?? .null])
        }
        let disk = DiskGuard.raisedReason(spool)
        var providers: JSONObject = [:]
        // Only each breaker's state: its reason is a provider's own error text, which can carry
        // account ids and URLs, and /health answers anyone.
        for (name, b) in Breakers.read(file: intake.config.state + "/breakers.json") {
            providers[name.rawValue] = .object(["state": .string(b.state.rawValue), "open_until": b.openUntil.map { .string(Timestamp.string($0)) } ?? .null])
        }
        let body: JSONObject = [
            "status": .string(disk == nil ? "ok" : "degraded"), "version": .string(MathreelVersion.string),
            "timestamp": .string(Timestamp.string()), "providers": .object(providers), "spool": .object(depths),
            "disk": .object(["free_bytes": DiskGuard.freeBytes(spool).map { .int($0) } ?? .null, "refusing": .bool(disk != nil)]),
        ]
        return IngestSite.json(.ok, .object(body))
    }
}

extension IngestSite {
    public init(config: Config, spool: Spool, sessions: SessionStore, logger: Logger) throws {
        let env = config.environment
        func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
        let intake = try Intake(spool: spool, sessions: sessions, config: config, logger: logger)
        let desk = ChatDesk(intake: intake, spool: spool, sessions: sessions,
                            replies: Replies(channels: Channels(settings: ChannelSettings(environment: env)), logger: logger),
                            videosPath: config.videosPath, logger: logger)
        self.init(intake: intake,
                  telegram: TelegramWebhook(secret: value("TELEGRAM_SECRET_TOKEN"), desk: desk, sessions: sessions,
                                            botName: value("TELEGRAM_BOT_USERNAME").map { $0.hasPrefix("@") ? String($0.dropFirst()) : $0 }, logger: logger),
                  whatsapp: WhatsAppWebhook(appSecret: value("WHATSAPP_APP_SECRET"), verifyToken: value("WHATSAPP_VERIFY_TOKEN"), desk: desk,
                                            sessions: sessions, logger: logger),
                  spool: spool, sessions: sessions, checker: StaticChecker(config: config), metrics: Metrics(),
                  apiSecret: value("MATHREEL_API_SECRET"), proxies: config.trustedProxies.compactMap(AddressRange.init),
                  streams: Slots(total: config.maxStreams, each: config.maxStreamsPerSession),
                  checks: Slots(total: config.maxPendingChecks, each: config.maxPendingChecks), logger: logger)
    }
}

/// A job as the API shows it; the link only ever reaches the owner (the caller checks).
enum JobView {
    static func object(_ found: FoundJob, history: Bool) -> JSONValue {
        var o: JSONObject = ["status": .string(found.status), "progress": found.progress.map { .int(Int64($0)) } ?? .null]
        guard let job = found.job else { return .object(o) }
        o["job_id"] = .string(job.id)
        o["kind"] = .string(job.kind.rawValue)
        o["created_at"] = .string(job.createdAt)
        if let p = job.problem { o["problem"] = .string(p) }
        if found.place == .ready, let url = job.linkURL { o["link"] = .string(url); o["expires_at"] = job.linkExpiresAt.map(JSONValue.string) ?? .null }
        if let answer = job.answer { o["answer"] = .string(answer) }
        if let e = job.error { o["error"] = .object(["code": .string(e.code), "message": .string(e.message)]) }
        o.merge(job.lessonView) { $1 }
        if history {
            o["history"] = .array(job.history.map { .object(["at": .string($0.at), "status": .string($0.status), "note": $0.note.map(JSONValue.string) ?? .null]) })
        }
        return .object(o)
    }
}


/// Counts every request by route and status, with its time.
struct Measured<Context: RequestContext>: RouterMiddleware {
    let metrics: Metrics
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = context.endpointPath ?? "unmatched"
        func seconds() -> Double { let d = ContinuousClock.now - start; return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        do {
            let response = try await next(request, context)
            metrics.request(route: route, status: response.status.code, seconds: seconds())
            return response
        } catch let e as HTTPError {
            metrics.request(route: route, status: e.status.code, seconds: seconds())
            let message = e.status == .notFound ? "There is no such route." : e.status == .methodNotAllowed ? "That method is not allowed here." : (e.body ?? "\(e.status)")
            return IngestSite.error(e.status.code, e.status == .notFound ? "not_found" : "bad_request", message)
        }
    }
}

extension IngestSite {
    static let terminal: Set<String> = ["ready", "delivered", "failed", "expired"]

    /// Server-Sent Events: one `status` event per change of status or progress, until the job ends.
    func events(_ request: Request, _ id: String) -> Response {
        guard let (person, _) = owned(request, id) else { return IngestSite.error(404, "not_found", "No job \(id) for this session.") }
        // Each stream holds a connection and a task: a few per session, a bounded number in all.
        guard streams.acquire(person.key) else {
            return IngestSite.error(Refusal(status: 429, code: "too_many_streams",
                                            message: "Too many live event streams are open. Close one, or poll GET /api/v1/jobs/\(id).", retryAfter: 10))
        }
        let spool = self.spool
        // Released when the body is done with, whether or not it ever ran.
        let lease = Lease(streams, person.key)
        let body = ResponseBody { writer in
            _ = lease
            try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
            var last = "", spoke = ContinuousClock.now
            while true {
                guard let found = spool.find(id) else {
                    let gone = JSONValue.object(["job_id": .string(id), "status": .string("expired"),
                                                 "error": .object(["code": .string("expired"), "message": .string("The job is no longer kept.")])])
                    try await writer.write(ByteBuffer(string: "event: status\ndata: " + String(decoding: gone.serialized(pretty: false), as: UTF8.self) + "\n\n"))
                    break
                }
                // A scene that finishes is a change too: the page lists the scenes as they come.
                let scenes = found.job?.plan?.scenes.map { "\($0.status.rawValue)\($0.slate ? "*" : "")" }.joined(separator: ",") ?? ""
                let key = "\(found.status)/\(found.progress ?? -1)/\(found.place.path)/\(found.job?.stage?.rawValue ?? "")/\(scenes)"
                if key != last {
                    last = key; spoke = .now
                    let data = String(decoding: JobView.object(found, history: false).serialized(pretty: false), as: UTF8.self)
                    try await writer.write(ByteBuffer(string: "event: status\ndata: \(data)\n\n"))
                }
                if IngestSite.terminal.contains(found.status) && found.place != .active(.ready) { break }
                try await Task.sleep(for: .milliseconds(250))
                // A comment every 5 s keeps proxies from closing a quiet stream, and finds a client
                // that left (a write to its closed socket fails), which gives its slot back.
                if ContinuousClock.now - spoke >= .seconds(5) { spoke = .now; try await writer.write(ByteBuffer(string: ": waiting\n\n")) }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: body)
    }
}
