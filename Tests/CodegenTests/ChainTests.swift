// The provider chain through a running mathreel-codegen, with every provider a
// local fake speaking its real wire format: fail-over on each kind of failure,
// the breakers, the re-ask after a failed check, no fail-over on our own 400,
// deferral when all are out, and a repair round for a render error.
import Foundation
import MathreelCore
import MathreelSpool
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// A problem the offline solver does not know: only a model can write its code.
let modelOnlyProblem = "Animate the proof that there are infinitely many primes, in the style of Euclid"

/// `scenes` 1 by default: the chain's tests are of one scene's code; nil asks for a lesson.
func submitProblem(_ spool: Spool, _ problem: String, codegen: JSONObject? = nil, code: String? = nil, scenes: Int? = 1) throws -> String {
    var job = Job(kind: .problem, problem: problem, code: code, options: JobOptions(maxDurationS: scenes == 1 ? 30 : Lesson.defaultDuration, scenes: scenes),
                  origin: JobOrigin(channel: .web))
    job.codegen = codegen.map(CodegenRecord.init(json:))
    job.record(.queued, by: "test")
    try spool.submit(job, to: .codegen)
    return job.id
}

/// The fakes' settings for a chain of `providers`, all served by `server`.
func chainSettings(_ server: FakeHTTPServer, _ providers: String, timeout: Int = 2) -> [String: String] {
    ["MATHREEL_PYTHON": manimPython, "MATHREEL_PROVIDERS": providers, "MATHREEL_PROVIDER_TIMEOUT_S": "\(timeout)",
     "CLOUDFLARE_ACCOUNT_ID": "acc", "CLOUDFLARE_API_TOKEN": "cf-token", "MATHREEL_CLOUDFLARE_BASE_URL": server.baseURL,
     "GROQ_API_KEY": "groq-key", "MATHREEL_GROQ_BASE_URL": server.baseURL,
     "HF_TOKEN": "hf-token", "MATHREEL_HUGGINGFACE_BASE_URL": server.baseURL,
     "OPENAI_API_KEY": "openai-key", "OPENAI_BASE_URL": server.baseURL + "/v1",
     "OLLAMA_URL": server.baseURL + "/ollama"]
}

/// Which provider a fake request was for, from its path and key.
func providerOf(_ r: FakeRequest) -> String {
    if r.path.contains("/ai/run/") || r.path.contains("/ai/v1/") { return "cloudflare" }
    if r.path.hasPrefix("/openai/") { return "groq" }
    if r.path.hasPrefix("/ollama/") { return "ollama" }
    return r.headers["authorization"] == "Bearer hf-token" ? "huggingface" : "openai"
}

/// The breakers as the daemon wrote them (none written: all closed and clean).
func breakers(_ dir: TempDir) throws -> JSONObject {
    guard let data = FileManager.default.contents(atPath: dir.state + "/breakers.json") else { return [:] }
    return try #require(try JSONValue.parse(Array(data)).objectValue)
}

/// One provider's breaker: its state and how many failures it counted.
func breaker(_ b: JSONObject, _ provider: String) -> (String, Int) {
    (b[provider]?.objectValue?["state"]?.stringValue ?? "closed", b[provider]?.objectValue?["failures"]?.intValue ?? 0)
}

@Suite(.serialized) struct ChainTests {
    @Test(.timeLimit(.minutes(2)))
    func eachKindOfFailureFailsOverAndTheBreakersMove() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        // cloudflare: quota used up; groq: 429 with Retry-After; huggingface: 503; openai: a reply cut at its
        // length limit; ollama: the first good answer.
        let server = try FakeHTTPServer { r in
            switch providerOf(r) {
            case "cloudflare": return .json(429, #"{"result":null,"success":false,"errors":[{"code":3036,"message":"You have used up your daily free allocation of 10,000 neurons."}],"messages":[]}"#)
            case "groq": return .json(429, #"{"error":{"message":"Rate limit reached on requests per minute (RPM). Please try again in 20s.","type":"requests","code":"rate_limit_exceeded"}}"#, headers: [("retry-after", "20")])
            case "huggingface": return .json(503, #"{"error":"Service Unavailable"}"#)
            case "openai": return .json(200, chatCompletion(fenced(goodScene).prefix(60) + "", finish: "length"))
            default: return .json(200, .object(["message": .object(["role": .string("assistant"), "content": .string(fenced(goodScene))]), "done": .bool(true), "done_reason": .string("stop")]))
            }
        }
        let first = try submitProblem(spool, modelOnlyProblem)
        let daemon = try StartedDaemon.start("mathreel-codegen", dir, chainSettings(server, "cloudflare,groq,huggingface,openai,ollama"))
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 60) { count(spool, .render) == 1 }, "\(daemon.log)")
        let job = try #require(jobs(in: spool, .render).first)
        #expect(job.id == first && job.codegen?.json["provider"] == .string("ollama") && job.codegen?.json["model"] == .string("qwen2.5-coder:7b"))
        #expect(job.code?.contains("class Solution(Scene)") == true)
        #expect(job.status == .ai_generating)
        let outcomes = (job.codegen?.json["calls"]?.arrayValue ?? []).compactMap { $0.objectValue?["outcome"]?.stringValue }
        #expect(outcomes.count == 5 && outcomes[0].hasPrefix("quota used up") && outcomes[1].hasPrefix("rate limited, retry after 20 s")
                && outcomes[2].hasPrefix("server error 503") && outcomes[3].hasPrefix("cut its reply off") && outcomes[4] == "ok", "\(outcomes)")
        #expect(FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(first)/attempt-1.py"))

        // The breakers remember: cloudflare until midnight UTC, groq for its 20 s. A second job skips both.
        let b = try breakers(dir)
        #expect(breaker(b, "cloudflare").0 == "open" && breaker(b, "groq").0 == "open")
        // A 503 and a cut-off reply each count one failure; the provider that answered is closed and clean.
        #expect(breaker(b, "huggingface") == ("closed", 1) && breaker(b, "openai") == ("closed", 1) && breaker(b, "ollama") == ("closed", 0))
        let before = server.requests.count
        _ = try submitProblem(spool, modelOnlyProblem + " (again)")
        #expect(await waitUntil(timeout: 60) { count(spool, .render) == 2 }, "\(daemon.log)")
        let asked = server.requests.dropFirst(before).map(providerOf)
        #expect(!asked.contains("cloudflare") && !asked.contains("groq"), "open breakers are skipped without a call: \(asked)")
        #expect(await daemon.stop() == .exited(0))
    }

    @Test(.timeLimit(.minutes(2)))
    func codeThatFailsTheCheckIsAskedForOnceMoreWithTheError() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let server = try FakeHTTPServer { r in
            let last = r.json?.objectValue?["messages"]?.arrayValue?.last?.objectValue?["content"]?.stringValue ?? ""
            // The first answer reaches for os; asked again with the error, it answers well.
            return .json(200, chatCompletion(fenced(last.contains("That code failed") ? goodScene : "import os\n" + goodScene)))
        }
        let id = try submitProblem(spool, modelOnlyProblem)
        let daemon = try StartedDaemon.start("mathreel-codegen", dir, chainSettings(server, "groq"))
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 60) { count(spool, .render) == 1 }, "\(daemon.log)")
        #expect(server.requests.count == 2)
        let second = server.requests.last?.json?.objectValue?["messages"]?.arrayValue?.last?.objectValue?["content"]?.stringValue ?? ""
        #expect(second.contains("That code failed") && second.contains("`import os` is not allowed"), "\(second)")
        let job = try #require(jobs(in: spool, .render).first)
        #expect(job.id == id && job.codegen?.json["provider"] == .string("groq") && job.code?.contains("import os") == false)
        #expect(breaker(try breakers(dir), "groq") == ("closed", 0), "fixed on the re-ask: no failure counted")
        let attempts = try FileManager.default.contentsOfDirectory(atPath: dir.spool + "/artifacts/\(id)").filter { $0.hasPrefix("attempt-") }.sorted()
        #expect(attempts == ["attempt-1.py", "attempt-2.py"], "every attempt's code is kept")
        #expect(await daemon.stop() == .exited(0))
    }

    @Test(.timeLimit(.minutes(2)))
    func proseMalformedAndTimeoutsFailOverAndOurOwn400StopsTheChain() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let server = try FakeHTTPServer { r in
            switch providerOf(r) {
            case "groq": return .json(200, chatCompletion("I'm sorry, I can only describe the proof in words."))
            case "huggingface": return FakeResponse(status: 200, headers: [("Content-Type", "text/html")], body: Array("<html>502 Bad Gateway</html>".utf8))
            case "openai": return FakeResponse(status: 200, body: chatCompletion(fenced(goodScene)).serialized(pretty: false), delay: 4)
            default: return .json(200, .object(["message": .object(["role": .string("assistant"), "content": .string(fenced(goodScene))]), "done": .bool(true)]))
            }
        }
        _ = try submitProblem(spool, modelOnlyProblem)
        let daemon = try StartedDaemon.start("mathreel-codegen", dir, chainSettings(server, "groq,huggingface,openai,ollama", timeout: 1))
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 60) { count(spool, .render) == 1 }, "\(daemon.log)")
        let job = try #require(jobs(in: spool, .render).first)
        let outcomes = (job.codegen?.json["calls"]?.arrayValue ?? []).compactMap { $0.objectValue?["outcome"]?.stringValue }
        #expect(outcomes.count == 4 && outcomes[0].hasPrefix("sent no usable code") && outcomes[1].hasPrefix("sent a malformed reply")
                && outcomes[2].hasPrefix("timed out") && outcomes[3] == "ok", "\(outcomes)")
        // Prose, a malformed body and a timeout each count against their provider.
        let b = try breakers(dir)
        #expect(breaker(b, "groq") == ("closed", 1) && breaker(b, "huggingface") == ("closed", 1) && breaker(b, "openai") == ("closed", 1))

        // A 400 for our own request: no other provider is asked, and the log says it loudly.
        server.respond { r in
            providerOf(r) == "groq" ? .json(400, #"{"error":{"message":"'messages.0.role' is invalid","type":"invalid_request_error"}}"#)
                : .json(200, chatCompletion(fenced(goodScene)))
        }
        let before = server.requests.count
        let bad = try submitProblem(spool, modelOnlyProblem + " once more")
        #expect(await waitUntil(timeout: 60) { count(spool, .failed) == 1 }, "\(daemon.log)")
        #expect(server.requests.dropFirst(before).map(providerOf) == ["groq"])
        let failed = try #require(jobs(in: spool, .failed).first)
        #expect(failed.id == bad && failed.error?.code == ErrorCode.unsupportedProblem)
        #expect(daemon.log.contains("a bug in mathreel"))
        #expect(breaker(try breakers(dir), "groq") == ("closed", 1), "our own 400 counts nothing against groq (its 1 is the prose)")
        #expect(await daemon.stop() == .exited(0))
    }

    @Test(.timeLimit(.minutes(2)))
    func withEveryProviderOutTheJobIsDeferredNotFailed() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        // Every quota kind, and a plain server error.
        let server = try FakeHTTPServer { r in
            switch providerOf(r) {
            case "cloudflare": return .json(429, #"{"success":false,"errors":[{"code":4006,"message":"you have used up your daily free allocation of 10,000 neurons"}]}"#)
            case "groq": return .json(429, #"{"error":{"message":"Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_1` service tier `on_demand` on requests per day (RPD): Limit 1000, Used 1000, Requested 1.","type":"requests","code":"rate_limit_exceeded"}}"#,
                                      headers: [("retry-after", "2"), ("x-ratelimit-reset-requests", "7h12m"), ("x-ratelimit-remaining-requests", "0")])
            case "huggingface": return .json(402, #"{"error":"You have exceeded your monthly included credits for Inference Providers."}"#)
            case "openai": return .json(429, #"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#)
            default: return .json(500, #"{"error":"an error was encountered while running the model"}"#)
            }
        }
        let id = try submitProblem(spool, modelOnlyProblem)
        let started = Date()
        let daemon = try StartedDaemon.start("mathreel-codegen", dir, chainSettings(server, "cloudflare,groq,huggingface,openai,ollama"))
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 60) { count(spool, .deferred(.codegen)) == 1 }, "\(daemon.log)")
        let job = try #require(jobs(in: spool, .deferred(.codegen)).first)
        #expect(job.id == id && job.attempts["codegen"] == 1)
        #expect(job.history.last?.note?.contains("providers_exhausted") == true, "\(job.history.last?.note ?? "")")
        #expect(count(spool, .failed) == 0)
        // Each breaker as it should be: quotas open until their resets, the 500 only counted.
        let b = try breakers(dir)
        func until(_ p: String) -> Date? { b[p]?.objectValue?["open_until"]?.stringValue.flatMap(Timestamp.parse) }
        let day = 86_400.0, midnight = Date(timeIntervalSince1970: (started.timeIntervalSince1970 / day).rounded(.down) * day + day)
        #expect(until("cloudflare").map { abs($0.timeIntervalSince(midnight)) < 1 } == true, "cloudflare: midnight UTC")
        #expect(until("groq").map { abs($0.timeIntervalSince(started) - 7.2 * 3600) < 30 } == true, "groq: its daily window's reset, not retry-after")
        #expect(until("huggingface").map { $0.timeIntervalSince(started) > 86_400 * 0.9 || $0 > midnight } == true, "huggingface: the 1st of next month")
        #expect(until("openai").map { $0.timeIntervalSince(started) > 3600 } == true, "openai: a long time")
        #expect(b["ollama"]?.objectValue?["state"] == .string("closed") && b["ollama"]?.objectValue?["failures"]?.intValue == 1)
        #expect(await daemon.stop() == .exited(0))
    }

    @Test(.timeLimit(.minutes(2)))
    func aRenderErrorGetsARepairRoundWithTheFailingCodeAndItsError() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let server = try FakeHTTPServer { _ in .json(200, chatCompletion(fenced(goodScene))) }
        let failing = goodScene.replacing("self.wait(0.5)", with: "x = 1 / 0")
        let id = try submitProblem(spool, modelOnlyProblem, codegen: [
            "provider": .string("openai"), "model": .string("gpt-4o-mini"), "repairs": .int(1), "answer": .null,
            "repair": .object(["error_code": .string("render_failed"), "error": .string("Line 7: ZeroDivisionError: division by zero"),
                               "log_tail": .string("Traceback ...\nZeroDivisionError: division by zero"), "code": .string(failing)]),
        ], code: failing)
        let daemon = try StartedDaemon.start("mathreel-codegen", dir, chainSettings(server, "groq,openai"))
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 60) { count(spool, .render) == 1 }, "\(daemon.log)")
        // The model that wrote it is asked first, with its code and the error.
        let r = try #require(server.requests.first)
        #expect(providerOf(r) == "openai")
        let last = r.json?.objectValue?["messages"]?.arrayValue?.suffix(2).compactMap { $0.objectValue?["content"]?.stringValue } ?? []
        #expect(last.first?.contains("x = 1 / 0") == true && last.last?.contains("ZeroDivisionError: division by zero") == true, "\(last)")
        let job = try #require(jobs(in: spool, .render).first)
        #expect(job.id == id && job.code == goodScene && job.codegen?.json["repair"] == nil && job.codegen?.json["repairs"]?.intValue == 1)
        #expect(job.history.last?.note?.hasPrefix("repaired after: Line 7: ZeroDivisionError") == true)
        #expect(await daemon.stop() == .exited(0))
    }
}
