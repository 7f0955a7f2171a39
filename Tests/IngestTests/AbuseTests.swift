// Ingest under attack: correctly signed requests (accepted once, across a restart),
// timestamps at Int64's edges, limits that hold when the session id is left out or
// rotated and when X-Forwarded-For is forged, no session row for a refused request,
// bounded event streams and code checks, and slow clients that cannot hold the server.
import Foundation
import MathreelCore
import MathreelHTTP
import MathreelSessions
import MathreelSQLite
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A connection kept open after its request was sent, with the status line read.
final class OpenConnection {
    let fd: Int32
    let status: Int?

    init(port: Int, _ request: String, readStatus: Bool = true) {
        let connected = RawHTTP.connect(port: port, timeout: 10)
        let fd = connected ?? -1
        self.fd = fd
        let ok = connected != nil
        let bytes = Array(request.utf8)
        if ok { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL)) } }
        guard ok, readStatus else { status = nil; return }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, 0)
        let line = n > 12 ? String(decoding: buffer.prefix(n), as: UTF8.self) : ""
        status = line.hasPrefix("HTTP/1.") ? Int(line.dropFirst(9).prefix(3)) : nil
    }

    /// Whether the server has closed the connection (a read returns 0 at once or within `wait`).
    func closedByServer(within wait: Int) -> Bool {
        var tv = timeval(tv_sec: wait, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }

    deinit { close(fd) }
}

@Suite struct AbuseTests {
    static let problem = #"{"problem_text":"Solve x^2 - 5x + 6 = 0"}"#

    func code(_ r: HTTPResponse) -> String? { r.json?.objectValue?["error"]?.objectValue?["code"]?.stringValue }

    @Test(.timeLimit(.minutes(2)))
    func aCorrectlySignedRequestIsAcceptedOnceEvenAcrossARestart() async throws {
        let w = try await WebSide.start(["MATHREEL_API_SECRET": WebSide.apiSecret])
        defer { w.telegram.stop() }
        let body = AbuseTests.problem
        let headers = WebSide.signed(body)
        let first = try await w.post("/api/v1/jobs", body, headers: headers)
        #expect(first.status == 202, "\(first.status) \(first.text)")
        let id = try #require(first.json?.objectValue?["job_id"]?.stringValue)
        let job = try #require(w.jobs().first { $0.id == id })
        #expect(job.origin.channel == .api && job.problem == "Solve x^2 - 5x + 6 = 0", "the body was parsed after its signature was checked")

        let again = try await w.post("/api/v1/jobs", body, headers: headers)
        #expect(again.status == 401 && (again.json?.objectValue?["error"]?.objectValue?["message"]?.stringValue ?? "").contains("replay"))
        // A wrong secret, and a body changed under a good signature.
        #expect(try await w.post("/api/v1/jobs", body, headers: WebSide.signed(body, secret: "other")).status == 401)
        #expect(try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 1 = 0"}"#, headers: WebSide.signed(body)).status == 401)

        // The replay cache lives in the state: a restart does not reopen the window.
        #expect(await w.daemon.stop() != nil)
        try await w.daemon.start(environment: ["MATHREEL_API_SECRET": WebSide.apiSecret, "MATHREEL_PYTHON": manimPython])
        #expect(try await w.post("/api/v1/jobs", body, headers: headers).status == 401)
        #expect(w.jobs().count == 1)
    }

    @Test(.timeLimit(.minutes(2)))
    func timestampsAtTheEdgesOfInt64AreRefusedAndIngestLives() async throws {
        let w = try await WebSide.start(["MATHREEL_API_SECRET": WebSide.apiSecret])
        defer { w.telegram.stop() }
        let body = AbuseTests.problem
        for stamp in ["-9223372036854775808", "9223372036854775807", "-9223372036854775807", "0", "99999999999999999999"] {
            let r = try await w.post("/api/v1/jobs", body, headers: WebSide.signed(body, stamp: stamp))
            #expect(r.status == 401, "X-Timestamp \(stamp): \(r.status)")
        }
        // Telegram entities past the text's end, at Int64's edges.
        for (n, e) in [#"{"offset":1,"length":9223372036854775807,"type":"bot_command"}"#, #"{"offset":9223372036854775807,"length":1,"type":"mention"}"#].enumerated() {
            let r = try await w.update(WebSide.message(Int64(900 + n), text: "/solve x + 1 = 2", extra: #","entities":[\#(e)]"#))
            #expect(r.status == 200)
        }
        #expect(w.daemon.isRunning, "ingest died: \(w.daemon.log.suffix(2000))")
        #expect(try await w.post("/api/v1/jobs", body, headers: WebSide.signed(body)).status == 202)
    }

    /// Leaving the session out, making one up, or rotating it gives no fresh burst: the address is limited.
    @Test(.timeLimit(.minutes(3)))
    func theLimitHoldsWhateverSessionTheClientSends() async throws {
        let w = try await WebSide.start(["MATHREEL_RATE_LIMIT_BURST": "5", "MATHREEL_RATE_LIMIT_PER_HOUR": "30",
                                         "MATHREEL_RATE_LIMIT_PER_ADDRESS_BURST": "8", "MATHREEL_NEW_SESSIONS_BURST": "3",
                                         "MATHREEL_TRUSTED_PROXIES": ""])
        defer { w.telegram.stop() }
        var accepted = 0
        for i in 0..<30 {
            let r = try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x + \#(i) = 0 for x"}"#)
            if r.status == 202 { accepted += 1 } else { #expect(r.status == 429 && code(r) == "rate_limited") }
        }
        #expect(accepted == 3, "without a session id, only the new-session burst is accepted: \(accepted) of 30")
        var rotated = 0
        for i in 0..<10 {
            let r = try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x + \#(i) = 1 for x","session_id":"\#(Token.make().text)"}"#)
            if r.status == 202 { rotated += 1 }
        }
        #expect(rotated == 0, "made-up session ids are new sessions: \(rotated) of 10 accepted")
        // A forged X-Forwarded-For from an untrusted peer changes nothing.
        let forged = try await w.post("/api/v1/jobs", AbuseTests.problem, headers: [("Content-Type", "application/json"), ("X-Forwarded-For", "203.0.113.9")])
        #expect(forged.status == 429)
        // Refused requests left no session behind: three sessions, for three accepted jobs.
        let store = try SessionStore(state: w.daemon.dir.state)
        let rows = try Database(path: store.path).query("SELECT count(*) FROM sessions").first?[0] ?? ""
        #expect(rows == "3", "sessions after 3 accepted and 38 refused requests: \(rows)")
    }

    @Test(.timeLimit(.minutes(2)))
    func forwardedForIsBelievedOnlyFromATrustedProxy() async throws {
        let w = try await WebSide.start(["MATHREEL_RATE_LIMIT_BURST": "5", "MATHREEL_NEW_SESSIONS_BURST": "1",
                                         "MATHREEL_TRUSTED_PROXIES": "127.0.0.1"])
        defer { w.telegram.stop() }
        func post(from address: String) async throws -> Int {
            try await w.post("/api/v1/jobs", AbuseTests.problem, headers: [("Content-Type", "application/json"), ("X-Forwarded-For", "198.51.100.7, \(address)")]).status
        }
        // Behind the proxy, each client has its own buckets: the proxy's address is not one client.
        #expect(try await post(from: "203.0.113.1") == 202)
        #expect(try await post(from: "203.0.113.2") == 202)
        #expect(try await post(from: "203.0.113.1") == 429, "one new session per client address")
    }

    @Test(.timeLimit(.minutes(2)))
    func eventStreamsAreCappedPerSessionAndGivenBackWhenClosed() async throws {
        let w = try await WebSide.start(["MATHREEL_MAX_EVENT_STREAMS_PER_SESSION": "2"])
        defer { w.telegram.stop() }
        let r = try await w.post("/api/v1/jobs", AbuseTests.problem)
        let id = try #require(r.json?.objectValue?["job_id"]?.stringValue)
        let sid = try #require(r.json?.objectValue?["session_id"]?.stringValue)
        let request = "GET /api/v1/jobs/\(id)/events?session_id=\(sid) HTTP/1.1\r\nHost: x\r\n\r\n"
        var open = [OpenConnection(port: w.daemon.port, request), OpenConnection(port: w.daemon.port, request)]
        #expect(open.map(\.status) == [200, 200])
        let third = OpenConnection(port: w.daemon.port, request)
        #expect(third.status == 429)
        // A closed stream gives its slot back (noticed when a keep-alive write fails: every 5 s).
        open.removeFirst()
        let back = await waitUntil(timeout: 30, interval: 0.5) { OpenConnection(port: w.daemon.port, request).status == 200 }
        #expect(back)
        _ = open
    }

    @Test(.timeLimit(.minutes(2)))
    func aClientThatStopsSendingIsClosedAndCannotHoldTheServer() async throws {
        let w = try await WebSide.start(["MATHREEL_MAX_CONNECTIONS": "2", "MATHREEL_HTTP_IDLE_TIMEOUT_S": "2"])
        defer { w.telegram.stop() }
        // Every connection taken: half a request head, and a body promised but never sent.
        let slow = [OpenConnection(port: w.daemon.port, "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-", readStatus: false),
                    OpenConnection(port: w.daemon.port, "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{", readStatus: false)]
        // (Accepts that arrive in one burst are taken together: let these two land first.)
        try await Task.sleep(for: .milliseconds(300))
        // A real client waits behind them only until the idle timeout closes them.
        let started = ContinuousClock.now
        #expect(try await w.post("/api/v1/jobs", AbuseTests.problem).status == 202)
        #expect(ContinuousClock.now - started >= .seconds(1), "the connection cap held the third client back")
        for c in slow { #expect(c.closedByServer(within: 10), "an idle client is closed by the idle timeout") }
    }

    /// A state that cannot be written refuses the job before accepting it: nothing is published unowned.
    @Test(.timeLimit(.minutes(2)))
    func aJobWhoseSessionCannotBeRecordedIsRefusedNotPublished() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        #expect(try await w.post("/api/v1/jobs", AbuseTests.problem).status == 202)
        // Another writer holds the sessions database longer than ingest waits (5 s).
        let blocker = try Database(path: w.daemon.dir.state + "/sessions.sqlite")
        try blocker.execute("BEGIN IMMEDIATE")
        let r = try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 9 = 0"}"#)
        try blocker.execute("ROLLBACK")
        #expect(r.status == 503 && code(r) == "state_unavailable", "\(r.status) \(r.text)")
        #expect(Int(r.headers["retry-after"] ?? "") ?? 0 > 0)
        #expect(w.jobs().count == 1, "the refused job was not published")
        #expect(try w.daemon.spool.list(.tmp).isEmpty)
    }

    /// A damaged sessions database is set aside at start, with one clear log line, and ingest serves.
    @Test(.timeLimit(.minutes(2)))
    func aDamagedSessionsDatabaseIsSetAsideAndIngestServes() async throws {
        let w = try await WebSide.start { spool in
            let state = String(spool.root.dropLast("spool".count)) + "state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            try Data(repeating: 0x5a, count: 8192).write(to: URL(fileURLWithPath: state + "/sessions.sqlite"))
        }
        defer { w.telegram.stop() }
        #expect(w.daemon.log.contains("set aside"), "\(w.daemon.log.suffix(2000))")
        let aside = try FileManager.default.contentsOfDirectory(atPath: w.daemon.dir.state).filter { $0.hasPrefix("sessions.sqlite.corrupt-") }
        #expect(aside.count == 1)
        #expect(try await w.post("/api/v1/jobs", AbuseTests.problem).status == 202)
    }

    /// /health answers anyone: a provider's error text (account ids, URLs) stays out of it.
    @Test(.timeLimit(.minutes(2)))
    func healthShowsEachBreakersStateButNotItsReason() async throws {
        let w = try await WebSide.start { spool in
            let state = String(spool.root.dropLast("spool".count)) + "state"
            try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
            try #"{"cloudflare":{"state":"open","failures":3,"trips":1,"open_until":"2099-01-01T00:00:00Z","reason":"401 for account 0123456789abcdef at https://api.example/accounts/0123456789abcdef"}}"#
                .write(toFile: state + "/breakers.json", atomically: true, encoding: .utf8)
        }
        defer { w.telegram.stop() }
        let health = try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/health"))
        #expect(health.status == 200)
        #expect(health.text.contains("\"open\""), "\(health.text)")
        #expect(!health.text.contains("0123456789abcdef"), "\(health.text)")
    }

    /// /forget stops what is still waiting for a stage, not only what waits to be watched.
    @Test(.timeLimit(.minutes(2)))
    func forgetStopsAJobStillWaitingForItsCode() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        #expect(try await w.update(WebSide.message(30, text: "Solve x^2 - 16 = 0", chat: 4242)).status == 200)
        let job = try #require(w.jobs().first { $0.origin.chatID == "4242" })
        #expect(try await w.update(WebSide.message(31, text: "/forget", chat: 4242)).status == 200)
        let told = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("stopped 1 job") } }
        #expect(told, "\(w.telegram.log.calls.compactMap { $0.json?["text"]?.stringValue })")
        #expect(w.jobs().isEmpty, "nothing waits in codegen/ for a forgotten person")
        let failed = w.daemon.spool.peek(.failed, FileName(job.id + ".json")).flatMap { try? Job.decode($0) }
        #expect(failed?.error?.code == "cancelled")
    }
}
