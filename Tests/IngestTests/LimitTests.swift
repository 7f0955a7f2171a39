// Ingest's limits with real requests: one person over the token bucket gets 429
// with Retry-After (in chat: a message saying when), others are not held back;
// deep queues or the disk marker refuse new work with 503 and Retry-After, and
// leave nothing half-written in the spool.
import Foundation
import MathreelCore
import MathreelHTTP
import MathreelSpool
import Testing
import TestSupport

@Suite struct LimitTests {
    func chatSaid(_ w: WebSide, _ words: String) async -> Bool {
        await waitUntil(timeout: 20) { w.telegram.log.accepted.contains { ($0.json?["text"]?.stringValue ?? "").contains(words) } }
    }

    @Test(.timeLimit(.minutes(2)))
    func onePersonOverTheBucketWaitsAndOthersDoNot() async throws {
        let w = try await WebSide.start(["MATHREEL_RATE_LIMIT_BURST": "2", "MATHREEL_RATE_LIMIT_PER_HOUR": "4"])
        defer { w.telegram.stop() }
        // The API: the same session twice within the burst, then refused.
        let first = try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 1 = 0"}"#)
        let sid = try #require(first.json?.objectValue?["session_id"]?.stringValue)
        #expect(try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 4 = 0","session_id":"\#(sid)"}"#).status == 202)
        let over = try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 9 = 0","session_id":"\#(sid)"}"#)
        #expect(over.status == 429)
        let after = Int(over.headers["retry-after"] ?? "") ?? 0
        // 4 an hour: one token every 15 minutes.
        #expect(after > 0 && after <= 900, "Retry-After \(over.headers["retry-after"] ?? "none")")
        let refusal = over.json?.objectValue?["error"]?.objectValue
        #expect(refusal?["code"]?.stringValue == "rate_limited")
        let message = refusal?["message"]?.stringValue ?? ""
        #expect(message.contains("Try again in"), "\(message)")
        // Another session is not held back by the first.
        #expect(try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 16 = 0"}"#).status == 202)
        #expect(w.jobs().count == 3)

        // Telegram: the third message of one chat gets no job, a 200 (no resend) and a message.
        for (i, n) in [1, 4, 9].enumerated() {
            #expect(try await w.update(WebSide.message(Int64(100 + i), text: "Solve x^2 - \(n) = 0", chat: 777)).status == 200)
        }
        #expect(w.jobs().filter { $0.origin.chatID == "777" }.count == 2)
        #expect(await chatSaid(w, "Try again in"), "\(w.telegram.log.calls.compactMap { $0.json?["text"]?.stringValue })")
        // Commands that start no work are not limited.
        #expect(try await w.update(WebSide.message(110, text: "/status", chat: 777)).status == 200)
        #expect(await chatSaid(w, "Job "))
    }

    @Test(.timeLimit(.minutes(2)))
    func deepQueuesAndALowDiskRefuseNewWorkAndLeaveNothingHalfWritten() async throws {
        // Two jobs already wait before rendering; the bound is two.
        let w = try await WebSide.start(["MATHREEL_MAX_QUEUED": "2"]) { spool in
            for n in [1, 2] {
                let job = Job(kind: .problem, problem: "Solve x + \(n) = 0 for x", origin: JobOrigin(channel: .api))
                try spool.submit(job, to: .codegen)
            }
        }
        defer { w.telegram.stop() }
        let busy = try await w.post("/api/v1/jobs", #"{"problem_text":"Solve x^2 - 1 = 0"}"#)
        #expect(busy.status == 503 && busy.json?.objectValue?["error"]?.objectValue?["code"]?.stringValue == "busy")
        #expect(Int(busy.headers["retry-after"] ?? "") ?? 0 > 0)
        #expect(try await w.update(WebSide.message(200, text: "Solve x^2 - 4 = 0")).status == 200, "no error status Telegram would resend")
        #expect(await chatSaid(w, "more work queued"), "\(w.telegram.log.calls.compactMap { $0.json?["text"]?.stringValue })")
        #expect(w.jobs().count == 2)
        #expect(try w.daemon.spool.list(.tmp).isEmpty && w.daemon.spool.list(.render).isEmpty, "nothing half-written")

        // The disk marker: 503 disk_full, with its own wait.
        let low = try await WebSide.start()
        defer { low.telegram.stop() }
        #expect(DiskGuard.update(low.daemon.spool, minFreeBytes: Int64.max).raised)
        let full = try await low.post("/api/v1/code", #"{"code":"from manim import *\nclass A(Scene):\n    def construct(self):\n        pass\n"}"#)
        #expect(full.status == 503 && full.json?.objectValue?["error"]?.objectValue?["code"]?.stringValue == "disk_full")
        #expect(Int(full.headers["retry-after"] ?? "") ?? 0 > 0)
        #expect(try await low.update(WebSide.message(201, text: "Solve x^2 - 4 = 0")).status == 200)
        #expect(await chatSaid(low, "disk"), "\(low.telegram.log.calls.compactMap { $0.json?["text"]?.stringValue })")
        #expect(low.jobs().isEmpty && low.jobs(.render).isEmpty)
        #expect(try low.daemon.spool.list(.tmp).isEmpty, "nothing half-written")
        // Space back: the same update id, retried by Telegram, now makes its job.
        #expect(!DiskGuard.update(low.daemon.spool, minFreeBytes: 0).raised)
        #expect(try await low.update(WebSide.message(202, text: "Solve x^2 - 4 = 0")).status == 200)
        #expect(low.jobs().count == 1)
    }
}
