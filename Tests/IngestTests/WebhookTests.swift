// Ingest's web side with real requests to the running daemon: Telegram updates
// in the shapes of the Bot API's webhook deliveries (core.telegram.org/bots/api#setwebhook, #update) (secret, replays, commands, photos, groups,
// emoji and right-to-left text, a 5,001-character problem), WhatsApp with Meta's
// signature test vector, and the acknowledgement arriving at a fake Telegram.
import Foundation
import MathreelCore
import MathreelHTTP
import MathreelSessions
import MathreelSpool
import MathreelSystem
import Testing
import TestSupport

struct WebSide {
    let daemon: IngestDaemon
    let telegram: FakeTelegram
    static let secret = "s3cret-Zq3_lk-9aP0"
    static let appSecret = "test_app_secret"
    static let apiSecret = "api-secret-7Hq2"

    /// The AI Video Tutor's signed request: hex(HMAC_SHA256(secret, timestamp + "." + body)).
    static func signed(_ body: String, stamp: String = "\(Int64(Date().timeIntervalSince1970 * 1000))", secret: String = apiSecret) -> [(String, String)] {
        [("Content-Type", "application/json"), ("X-Timestamp", stamp),
         ("X-Signature", SHA256.hexString(SHA256.hmac(key: Array(secret.utf8), Array((stamp + ".").utf8) + Array(body.utf8))))]
    }

    /// `prepare` sees the spool before the daemon starts.
    static func start(_ extra: [String: String] = [:], prepare: (Spool) throws -> Void = { _ in }) async throws -> WebSide {
        let telegram = try FakeTelegram()
        let daemon = try IngestDaemon()
        try prepare(daemon.spool)
        try await daemon.start(environment: ["TELEGRAM_SECRET_TOKEN": secret, "TELEGRAM_BOT_TOKEN": telegram.token,
                                             "TELEGRAM_API_BASE": telegram.baseURL, "TELEGRAM_BOT_USERNAME": "MathVidBot",
                                             "WHATSAPP_APP_SECRET": appSecret, "WHATSAPP_VERIFY_TOKEN": "vibecoding",
                                             "MATHREEL_PYTHON": manimPython].merging(extra) { $1 })
        return WebSide(daemon: daemon, telegram: telegram)
    }

    func post(_ path: String, _ body: String, headers: [(String, String)] = [("Content-Type", "application/json")]) async throws -> HTTPResponse {
        try await HTTPClient().send(HTTPRequest(method: "POST", url: daemon.base + path, headers: headers, body: Array(body.utf8), timeout: 20))
    }

    func update(_ json: String, secret: String? = WebSide.secret) async throws -> HTTPResponse {
        var headers = [("Content-Type", "application/json")]
        if let secret { headers.append(("X-Telegram-Bot-Api-Secret-Token", secret)) }
        return try await post("/webhook/telegram", json, headers: headers)
    }

    func jobs(_ place: Place = .codegen) -> [Job] {
        ((try? daemon.spool.list(place)) ?? []).compactMap { daemon.spool.peek(place, $0) }.compactMap { try? Job.decode($0) }
    }

    static func message(_ updateID: Int64, text: String?, chat: Int64 = 123456789, type: String = "private", extra: String = "") -> String {
        let t = text.map { ",\"text\":" + String(decoding: JSONValue.string($0).serialized(pretty: false), as: UTF8.self) } ?? ""
        return """
            {"update_id":\(updateID),
            "message":{"message_id":42,"from":{"id":\(chat),"is_bot":false,"first_name":"Ana"},"chat":{"id":\(chat),"type":"\(type)"},"date":1767225600\(t)\(extra)}}
            """
    }
}

@Suite struct WebhookTests {
    @Test(.timeLimit(.minutes(2)))
    func telegramUpdatesBecomeOneJobEachAndTheAcknowledgementArrives() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        // Missing or wrong secret: 401 and no job.
        #expect(try await w.update(WebSide.message(1, text: "Solve x^2-5x+6=0"), secret: nil).status == 401)
        #expect(try await w.update(WebSide.message(1, text: "Solve x^2-5x+6=0"), secret: "wrong").status == 401)
        #expect(w.jobs().isEmpty)
        // An update with a 64-bit id, delivered twice: one job.
        let id: Int64 = 9_007_199_254_740_993
        #expect(try await w.update(WebSide.message(id, text: "Solve x^2-5x+6=0")).status == 200)
        #expect(try await w.update(WebSide.message(id, text: "Solve x^2-5x+6=0")).status == 200)
        let jobs = w.jobs()
        try #require(jobs.count == 1, "\(jobs.map(\.id))")
        #expect(jobs[0].problem == "Solve x^2-5x+6=0")
        #expect(jobs[0].origin.channel == .telegram && jobs[0].origin.chatID == "123456789" && jobs[0].origin.messageID == "42")
        // The acknowledgement reaches the Bot API, replying to the message.
        let ack = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { $0.method == "sendmessage" && ($0.json?["text"]?.stringValue ?? "").contains("queued") } }
        #expect(ack, "\(w.telegram.log.calls.map { $0.json ?? [:] })")
        #expect(w.telegram.log.accepted.filter { ($0.json?["text"]?.stringValue ?? "").contains("queued") }.count == 1, "one acknowledgement for one job")
        // Emoji and right-to-left text arrive as they were sent.
        let rtl = "حل المعادلة x^2 - 4 = 0 🧮 please"
        #expect(try await w.update(WebSide.message(2, text: rtl)).status == 200)
        #expect(w.jobs().contains { $0.problem == rtl })
        // Too long: answered in chat, no job, and no error status Telegram would resend.
        #expect(try await w.update(WebSide.message(3, text: String(repeating: "x", count: 5001))).status == 200)
        #expect(w.jobs().count == 2)
        let told = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("too long") } }
        #expect(told, "\(w.telegram.log.calls.compactMap { $0.json?["text"]?.stringValue })")
    }

    @Test(.timeLimit(.minutes(2)))
    func commandsPhotosEditsGroupsAndChannelPostsMakeNoStrayJobs() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        let updates = [
            WebSide.message(10, text: "/start"),
            WebSide.message(11, text: nil, extra: #","photo":[{"file_id":"AgAD","file_unique_id":"u","width":90,"height":90}]"#),
            WebSide.message(12, text: nil, extra: #","sticker":{"file_id":"CAAD","file_unique_id":"s","type":"regular","width":512,"height":512,"is_animated":false,"is_video":false}"#),
            #"{"update_id":13,"edited_message":{"message_id":42,"from":{"id":5,"is_bot":false,"first_name":"Ana"},"chat":{"id":5,"type":"private"},"date":1767225600,"edit_date":1767225660,"text":"Solve x^2-5x+4=0"}}"#,
            WebSide.message(14, text: "Solve 2x + 3 = 7 for x", chat: -100123, type: "supergroup"),
            #"{"update_id":15,"channel_post":{"message_id":7,"chat":{"id":-100999,"type":"channel","title":"News"},"date":1767225600,"text":"Solve x^2 = 9 please"}}"#,
            WebSide.message(16, text: "/status"),
            WebSide.message(17, text: "/history"),
        ]
        for u in updates { #expect(try await w.update(u).status == 200, "\(u)") }
        #expect(w.jobs().isEmpty, "\(w.jobs().map { $0.problem ?? "" })")
        // A group command addressed to the bot does make a job; the @name is dropped.
        let addressed = WebSide.message(18, text: "/solve@MathVidBot x^2 - 9 = 0 for x", chat: -100123, type: "group",
                                        extra: #","entities":[{"offset":0,"length":17,"type":"bot_command"}]"#)
        #expect(try await w.update(addressed).status == 200)
        #expect(w.jobs().map(\.problem) == ["x^2 - 9 = 0 for x"])
        let help = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("Send me a math problem") } }
        #expect(help)
        let photo = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("can't read a photo") } }
        #expect(photo)
    }

    @Test(.timeLimit(.minutes(2)))
    func aLessonIsEditedOnlyByItsOwnerAndOnlyInItsOwnScenes() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        let spool = w.daemon.spool
        /// As if made and watched: a two-scene lesson in done/, its scene code kept.
        func finishedLesson(_ id: String) async throws {
            let dir = try spool.artifacts(id)
            for n in 1...2 { try dir.write(Array("from manim import *\n# scene \(n)\n".utf8), as: Lesson.codeFile(n)) }
            try await advance(spool, id, from: .codegen, to: .done) { job in
                job.plan = LessonPlan(scenes: [PlannedScene(n: 1, title: "The problem", status: .ready, sceneClass: "Problem"),
                                               PlannedScene(n: 2, title: "The steps", status: .ready, sceneClass: "Steps")])
            }
        }
        let r = try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 5x + 6 = 0"}"#)
        let o = try #require(r.json?.objectValue)
        let id = try #require(o["job_id"]?.stringValue), sid = try #require(o["session_id"]?.stringValue)
        try await finishedLesson(id)
        func edit(_ n: String, _ body: String, of job: String? = nil) async throws -> (Int, JSONObject) {
            let e = try await w.post("/api/v1/jobs/\(job ?? id)/scenes/\(n)/edit", body)
            return (e.status, e.json?.objectValue ?? [:])
        }
        func code(_ o: JSONObject) -> String? { o["error"]?.objectValue?["code"]?.stringValue }
        // Someone else's session learns nothing of the lesson.
        let stranger = try await edit("2", #"{"prompt":"slower","session_id":"\#(Token.make().text)"}"#)
        #expect(stranger.0 == 404 && code(stranger.1) == "not_found")
        #expect(try await edit("2", #"{"prompt":"slower"}"#).0 == 404, "no session, no edit")
        // The owner: a scene it does not have, a number that is not one, no words.
        let nine = try await edit("9", #"{"prompt":"slower","session_id":"\#(sid)"}"#)
        #expect(nine.0 == 404 && code(nine.1) == ErrorCode.noSuchScene, "\(nine)")
        let three = try await edit("3", #"{"prompt":"slower","session_id":"\#(sid)"}"#)
        #expect(three.0 == 404 && code(three.1) == ErrorCode.noSuchScene && (three.1["error"]?.objectValue?["message"]?.stringValue ?? "").contains("scenes 1 to 2"))
        #expect(code(try await edit("x", #"{"prompt":"slower","session_id":"\#(sid)"}"#).1) == ErrorCode.noSuchScene)
        #expect(try await edit("2", #"{"session_id":"\#(sid)"}"#).0 == 400)
        #expect(w.jobs().isEmpty, "no refusal made a job")
        // The edit: 202, version 2 of the lesson, scene 1's code copied byte for byte, scene 2 marked with the words.
        let ok = try await edit("2", #"{"prompt":"make it slower","session_id":"\#(sid)"}"#)
        #expect(ok.0 == 202 && ok.1["parent_id"] == .string(id) && ok.1["version"] == .int(2), "\(ok)")
        let new = try #require(ok.1["job_id"]?.stringValue)
        let job = try #require(w.jobs().first { $0.id == new })
        #expect(job.parentID == id && job.version == 2 && job.problem == "Solve x^2 - 5x + 6 = 0")
        #expect(job.plan?.scenes.map(\.status) == [.queued, .generating_code] && job.plan?.scenes[1].edit == "make it slower")
        #expect(try spool.artifacts(new).tail("scene-1.py", limit: 1000) == Array("from manim import *\n# scene 1\n".utf8))
        // The new version is the owner's too: it can be followed and edited in turn once finished.
        #expect(try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/api/v1/jobs/\(new)?session_id=\(sid)")).status == 200)
        #expect(try await edit("1", #"{"prompt":"faster","session_id":"\#(sid)"}"#, of: new).0 == 409, "still being made")

        // In Telegram: /edit N words edits the person's last lesson.
        #expect(try await w.update(WebSide.message(30, text: "Solve 2x + 3 = 7")).status == 200)
        let chatJob = try #require(w.jobs().first { $0.problem == "Solve 2x + 3 = 7" })
        try await finishedLesson(chatJob.id)
        #expect(try await w.update(WebSide.message(31, text: "/edit 1 bigger please")).status == 200)
        #expect(try await w.update(WebSide.message(31, text: "/edit 1 bigger please")).status == 200, "a resent update makes no second edit")
        let edits = w.jobs().filter { $0.parentID == chatJob.id }
        #expect(edits.count == 1 && edits.first?.plan?.scenes[0].edit == "bigger please" && edits.first?.origin.chatID == "123456789")
        let told = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("version 2 of your lesson, with scene 1 changed") } }
        #expect(told, "\(w.telegram.log.calls.compactMap { $0.json?["text"]?.stringValue })")
        #expect(try await w.update(WebSide.message(32, text: "/edit slower")).status == 200)
        let hint = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("Say which scene and what to change") } }
        #expect(hint)
    }

    @Test(.timeLimit(.minutes(2)))
    func forgetDeletesTheHistoryAndAVideoStillWaiting() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        #expect(try await w.update(WebSide.message(20, text: "Solve x^2 - 4 = 0")).status == 200)
        let job = try #require(w.jobs().first)
        // As if it had been rendered and delivered: in ready/, its video in the state's store.
        let spool = w.daemon.spool
        try await advance(spool, job.id, from: .codegen, to: .ready)
        let videos = w.daemon.dir.state + "/videos"
        try FileManager.default.createDirectory(atPath: videos, withIntermediateDirectories: true)
        try PlainFile.write(Array("mp4".utf8), to: videos + "/\(job.id).mp4")
        #expect(try await w.update(WebSide.message(21, text: "/forget")).status == 200)
        let told = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("deleted your history") } }
        #expect(told, "\(w.telegram.log.calls.compactMap { $0.json?["text"]?.stringValue })")
        #expect(!FileManager.default.fileExists(atPath: videos + "/\(job.id).mp4"), "the waiting video is deleted")
        let failed = spool.peek(.failed, FileName(job.id + ".json")).flatMap { try? Job.decode($0) }
        #expect(failed?.error?.code == "cancelled")
        #expect(try await w.update(WebSide.message(22, text: "/history")).status == 200)
        let empty = await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("no jobs yet") } }
        #expect(empty, "the history is gone")
    }

    /// A job locked at the moment of /forget (a hand-on between its rename and letting go, a spawning child's
    /// copy of a claim) is cancelled once the lock goes; one held past the wait is said so
    /// and stays marked for the janitor.
    @Test(.timeLimit(.minutes(2)))
    func forgetWaitsOutAMomentaryLockAndMarksWhatStaysHeld() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        let spool = w.daemon.spool
        let videos = w.daemon.dir.state + "/videos"
        try FileManager.default.createDirectory(atPath: videos, withIntermediateDirectories: true)
        var held: [Int32] = []
        for (n, text) in ["Solve x^2 - 4 = 0", "Solve x^2 - 9 = 0"].enumerated() {
            #expect(try await w.update(WebSide.message(40 + Int64(n), text: text)).status == 200)
            let job = try #require(w.jobs().first { $0.problem == text })
            try await advance(spool, job.id, from: .codegen, to: .ready)
            try PlainFile.write(Array("mp4".utf8), to: videos + "/\(job.id).mp4")
            let fd = open(spool.path(.ready, job.id + ".json"), O_RDONLY | O_CLOEXEC)
            #expect(fd >= 0 && flock(fd, LOCK_EX) == 0)
            held.append(fd)
        }
        let ids = w.jobs(.ready).sorted { ($0.problem ?? "") < ($1.problem ?? "") }.map(\.id)
        #expect(ids.count == 2)
        let brief = held[0], long = held[1]
        Task { try? await Task.sleep(for: .seconds(1)); close(brief) }
        #expect(try await w.update(WebSide.message(42, text: "/forget")).status == 200)
        let told = await waitUntil(timeout: 30) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains("deleted your history") } }
        let said = w.telegram.log.accepted.compactMap { $0.json?["text"]?.stringValue }.first { $0.contains("deleted your history") } ?? ""
        #expect(told && said.contains("1 video still waiting") && said.contains("1 job is being worked on"), "\(said)")
        #expect(spool.peek(.failed, FileName(ids[0] + ".json")).flatMap { try? Job.decode($0) }?.error?.code == "cancelled")
        #expect(!FileManager.default.fileExists(atPath: videos + "/\(ids[0]).mp4"), "the briefly locked job's video is deleted")
        #expect(spool.locate(ids[1]) == .ready, "the held one is left to its holder")
        #expect(try SessionStore(state: w.daemon.dir.state).forgottenJobs() == [ids[1]], "and marked for the janitor")
        close(long)
    }

    @Test(.timeLimit(.minutes(2)))
    func whatsAppIsVerifiedSignedAndDeduplicated() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        // The handshake: the challenge back for the right token, 403 for a wrong one.
        let ok = try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=vibecoding"))
        #expect(ok.status == 200 && String(decoding: ok.body, as: UTF8.self) == "1158201444")
        let bad = try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/webhook/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope"))
        #expect(bad.status == 403)
        // The reference's test vector: these exact 434 bytes and their signature.
        let body = #"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena Nelson"},"wa_id":"16505551234"}],"messages":[{"from":"16505551234","id":"wamid.TEST1","timestamp":"1749416383","type":"text","text":{"body":"Solve x^2-5x+6=0"}}]},"field":"messages"}]}]}"#
        #expect(body.utf8.count == 434)
        let signature = "sha256=c582c806db5fd12acfa4626e38002ca55cdd9ac325a4e6e414264f4716995b32"
        #expect(try await w.post("/webhook/whatsapp", body, headers: [("Content-Type", "application/json")]).status == 401)
        #expect(try await w.post("/webhook/whatsapp", body, headers: [("X-Hub-Signature-256", "sha256=" + String(repeating: "0", count: 64))]).status == 401)
        #expect(w.jobs().isEmpty)
        for _ in 0..<2 { #expect(try await w.post("/webhook/whatsapp", body, headers: [("X-Hub-Signature-256", signature)]).status == 200) }
        let jobs = w.jobs()
        #expect(jobs.count == 1 && jobs.first?.origin.chatID == "16505551234" && jobs.first?.origin.channel == .whatsapp)
    }

    @Test(.timeLimit(.minutes(2)))
    func theAPIAnswersInItsJSONShapeAndOnlyTheOwnerSeesAJob() async throws {
        let w = try await WebSide.start()
        defer { w.telegram.stop() }
        let r = try await w.post("/api/v1/jobs", #"{"problem_text":"Differentiate x^3 sin(x)"}"#)
        #expect(r.status == 202)
        let o = try #require(r.json?.objectValue)
        let id = try #require(o["job_id"]?.stringValue), sid = try #require(o["session_id"]?.stringValue)
        #expect(w.jobs().map(\.id) == [id])
        let mine = try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/api/v1/jobs/\(id)?session_id=\(sid)"))
        #expect(mine.status == 200 && mine.json?.objectValue?["status"]?.stringValue == "queued")
        #expect(mine.json?.objectValue?["stage"] == .string("initializing") && mine.json?.objectValue?["version"] == .int(1))
        // A lesson half made: its stage and each scene's state, never where its files are.
        let spool = w.daemon.spool
        var job = try #require(w.jobs().first)
        job.reach(.planning, note: "2 scenes")
        job.reach(.rendering)
        var plan = LessonPlan(scenes: [PlannedScene(n: 1, title: "The problem", status: .ready, code: "artifacts/\(id)/scene-1.py"),
                                       PlannedScene(n: 2, title: "The steps", status: .rendering, code: "artifacts/\(id)/scene-2.py")])
        plan.placeFrames([45])
        job.plan = plan
        _ = unlink(spool.path(.codegen, id + ".json"))
        try spool.submit(job, to: .codegen)
        let lesson = try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/api/v1/jobs/\(id)?session_id=\(sid)"))
        let view = try #require(lesson.json?.objectValue)
        #expect(view["stage"] == .string("rendering") && view["degraded"] == .bool(false))
        #expect(view["stages"]?.arrayValue?.compactMap { $0.objectValue?["stage"]?.stringValue } == ["initializing", "planning", "rendering"])
        let scenes = view["scenes"]?.arrayValue?.compactMap(\.objectValue) ?? []
        #expect(scenes.map { $0["status"]?.stringValue ?? "" } == ["ready", "rendering"] && scenes.first?["end_frame"] == .int(44))
        #expect(!String(decoding: lesson.body, as: UTF8.self).contains("artifacts/"), "no file path reaches a caller")
        let theirs = try await HTTPClient().send(HTTPRequest(url: w.daemon.base + "/api/v1/jobs/\(id)?session_id=\(Token.make().text)"))
        #expect(theirs.status == 404)
        // Bad input: each gets 4xx with a code and a message that says what to fix.
        let cases: [(String, [(String, String)], Int, String)] = [
            (#"{"problem_text":"x"}"#, [("Content-Type", "application/json")], 400, "too short"),
            (#"{"problem_text":"#, [("Content-Type", "application/json")], 400, "line 1"),
            (#"["a"]"#, [("Content-Type", "application/json")], 400, "JSON object"),
            (#"problem_text=hi"#, [("Content-Type", "application/x-www-form-urlencoded")], 415, "application/json"),
            ("{\"problem_text\":\"" + String(repeating: "a", count: 1 << 20) + "\"}", [("Content-Type", "application/json")], 413, "1 MB"),
        ]
        for (body, headers, status, words) in cases {
            let e = try await w.post("/api/v1/jobs", body, headers: headers)
            let message = e.json?.objectValue?["error"]?.objectValue?["message"]?.stringValue ?? ""
            #expect(e.status == status && message.contains(words), "\(e.status) \(message)")
        }
        #expect(w.jobs().count == 1)
    }

    @Test(.timeLimit(.minutes(2)))
    func whatsAppImagesAndStatusesMakeNoJobAndBatchedEntriesMakeOneEach() async throws {
        let fake = try FakeWhatsApp()
        defer { fake.stop() }
        let w = try await WebSide.start(["WHATSAPP_TOKEN": fake.token, "WHATSAPP_PHONE_NUMBER_ID": fake.phoneNumberID, "WHATSAPP_API_BASE": fake.baseURL])
        defer { w.telegram.stop() }
        func notify(_ messages: String) async throws -> Int {
            let body = #"{"object":"whatsapp_business_account","entry":["# + messages + "]}"
            let signature = "sha256=" + SHA256.hexString(SHA256.hmac(key: Array(WebSide.appSecret.utf8), Array(body.utf8)))
            return try await w.post("/webhook/whatsapp", body, headers: [("Content-Type", "application/json"), ("X-Hub-Signature-256", signature)]).status
        }
        func entry(_ value: String) -> String { #"{"id":"1022","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","#  + value + "}}]}" }
        // An image: answered in text, no job.
        #expect(try await notify(entry(#""messages":[{"from":"15550001111","id":"wamid.IMG","timestamp":"1749416383","type":"image","image":{"id":"9","mime_type":"image/jpeg","sha256":"x"}}]"#)) == 200)
        let answered = await waitUntil(timeout: 20) { fake.log.accepted.contains { ($0.json?["text"]?.objectValue?["body"]?.stringValue ?? "").contains("only read text") } }
        #expect(answered, "\(fake.log.calls.map { $0.json ?? [:] })")
        // A delivery status: acknowledged, nothing said, no job.
        let before = fake.log.calls.count
        #expect(try await notify(entry(#""statuses":[{"id":"wamid.OUT","status":"read","timestamp":"1749416390","recipient_id":"15550001111"}]"#)) == 200)
        // Two entries in one notification, each with a text from another number: two jobs.
        let batched = entry(#""messages":[{"from":"15550002222","id":"wamid.B1","timestamp":"1749416383","type":"text","text":{"body":"Solve x^2 - 1 = 0"}}]"#)
            + "," + entry(#""messages":[{"from":"15550003333","id":"wamid.B2","timestamp":"1749416384","type":"text","text":{"body":"Solve x^2 - 4 = 0"}}]"#)
        #expect(try await notify(batched) == 200)
        let jobs = w.jobs()
        #expect(Set(jobs.compactMap(\.origin.chatID)) == ["15550002222", "15550003333"], "\(jobs.map { $0.problem ?? "" })")
        // Both acknowledgements, and nothing for the status.
        #expect(await waitUntil(timeout: 20) { fake.log.accepted.filter { ($0.json?["text"]?.objectValue?["body"]?.stringValue ?? "").contains("queued") }.count == 2 })
        #expect(!fake.log.calls.dropFirst(before).contains { ($0.json?["to"]?.stringValue ?? "") == "15550001111" }, "a status was answered")
    }
}
