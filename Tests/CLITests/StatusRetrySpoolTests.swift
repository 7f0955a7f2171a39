// `mathreel status`, `retry` and `spool` over jobs the test places by hand:
// what status says of a job in flight and of an unknown id, retry's move from
// failed/ back to incoming/ (and its refusal otherwise), spool's counts.
import Foundation
import MathreelCore
import MathreelSpool
import MathreelSystem
import TestSupport
import Testing
@testable import MathreelCommand

@Suite struct StatusRetrySpoolTests {
    @Test func statusOfAJobInCodegen() async throws {
        let f = try CLIFixture()
        let job = try f.place(.codegen, status: .ai_generating)
        let r = try await f.run("status", [job.id])
        #expect(r.status == .exited(0), "stderr: \(r.stderr)")
        #expect(r.stdout.contains("codegen/"))
        #expect(r.stdout.contains("ai_generating (50%)"))
        #expect(r.stdout.contains("Solve x^2 - 5x + 6 = 0"))
        #expect(r.stdout.contains("made by the test"))

        let j = try await f.run("status", [job.id, "--json"])
        #expect(j.status == .exited(0))
        let object = try #require(try JSONValue.parse(Array(j.stdout.utf8)).objectValue)
        #expect(object["id"]?.stringValue == job.id)
        #expect(object["status"]?.stringValue == "ai_generating")
        #expect(object["progress"]?.intValue == 50)
    }

    @Test(.timeLimit(.minutes(1)))
    func statusAndFollowShowALessonsStageAndScenes() async throws {
        let f = try CLIFixture()
        let job = try f.place(.failed, status: .failed) {
            $0.reach(.planning, note: "3 scenes")
            $0.reach(.rendering)
            var plan = LessonPlan(scenes: [PlannedScene(n: 1, title: "The problem", status: .ready),
                                           PlannedScene(n: 2, title: "The method and its steps", status: .error),
                                           PlannedScene(n: 3, title: "The answer", status: .ready)])
            plan.scenes[1].error = JobError(stage: "render", code: ErrorCode.renderFailed, message: "Line 6: ZeroDivisionError: division by zero\nmore")
            plan.scenes[1].slate = true
            plan.placeFrames([30, 60, 45])
            $0.plan = plan
            $0.degraded = true
            $0.error = JobError(stage: "render", code: ErrorCode.renderFailed, message: "The lesson could not be joined.")
        }
        let r = try await f.run("status", [job.id])
        #expect(r.status == .exited(0), "stderr: \(r.stderr)")
        #expect(r.stdout.contains("stage:    rendering since "), "\(r.stdout)")
        #expect(r.stdout.contains("lesson:   3 scenes; a scene that failed was replaced by its slate"), "\(r.stdout)")
        #expect(r.stdout.contains("    2. The method and its steps: error, frames 30 to 89, replaced by its slate\n       why: Line 6: ZeroDivisionError: division by zero (render_failed)"), "\(r.stdout)")
        #expect(r.stdout.contains("    3. The answer: ready, frames 90 to 134"), "\(r.stdout)")
        // follow: one line per change, naming the stage and each scene's state, then the failure's exit.
        let follow = try await f.run("follow", [job.id, "--timeout", "10"])
        #expect(follow.status == .exited(1))
        #expect(follow.stderr.contains("failed/: failed 80%, rendering (failed); scenes: 1 ready, 2 replaced by its slate, 3 ready"), "\(follow.stderr)")
        #expect(follow.stderr.contains("mathreel retry \(job.id)"))
    }

    @Test func statusShowsTheErrorOfAFailedJob() async throws {
        let f = try CLIFixture()
        let job = try f.place(.failed, status: .failed) {
            $0.error = JobError(stage: "render", code: ErrorCode.renderTimeout, message: "The animation took longer than 300 s to render.")
        }
        let r = try await f.run("status", [job.id])
        #expect(r.status == .exited(0))
        #expect(r.stdout.contains("The animation took longer than 300 s to render."))
        #expect(r.stdout.contains("mathreel retry \(job.id)"))
    }

    @Test func statusOfAnUnknownID() async throws {
        let f = try CLIFixture()
        let id = JobID.make()
        let r = try await f.run("status", [id])
        #expect(r.status == .exited(1))
        #expect(r.stderr.contains("no job with id \(id)"), "stderr: \(r.stderr)")
        let bad = try await f.run("status", ["not-an-id"])
        #expect(bad.status == .exited(1))
        #expect(bad.stderr.contains("is not a job id"))
    }

    @Test func retryMovesAFailedJobBackToIncoming() async throws {
        let f = try CLIFixture()
        let job = try f.place(.failed, status: .failed) {
            $0.attempts = ["render": 3]
            $0.crashes = ["render": 1]
            $0.error = JobError(stage: "render", code: ErrorCode.renderFailed, message: "The scene raised an error.")
        }
        let r = try await f.run("retry", [job.id])
        #expect(r.status == .exited(0), "stderr: \(r.stderr)")
        #expect(f.names(.failed).isEmpty)
        #expect(f.names(.active(.failed)).isEmpty)
        let bytes = try #require(f.spool.peek(.incoming, FileName("\(job.id).json")))
        let again = try Job.decode(bytes)
        #expect(again.status == .queued)
        #expect(again.progress == 5)
        #expect(again.error == nil)
        #expect(again.attempts.isEmpty)
        #expect(again.crashes.isEmpty)
        #expect(again.next == "incoming")
        #expect(again.history.last?.by == "cli")
        #expect(again.history.last?.note?.contains("retried by hand") == true)
    }

    @Test func retryRefusesAJobThatHasNotFailed() async throws {
        let f = try CLIFixture()
        let submitted = try await f.run("submit", ["--problem", "Solve x^2 - 5x + 6 = 0"])
        let id = try #require(idLine(submitted.stdout))
        let r = try await f.run("retry", [id])
        #expect(r.status == .exited(1))
        #expect(r.stderr.contains("only failed or expired jobs can be retried"), "stderr: \(r.stderr)")
        #expect(f.names(.incoming) == ["\(id).json"])

        let unknown = try await f.run("retry", [JobID.make()])
        #expect(unknown.status == .exited(1))
        #expect(unknown.stderr.contains("no job with id"))
    }

    @Test func spoolCountsEachDirectory() async throws {
        let f = try CLIFixture()
        try f.place(.codegen, status: .queued)
        try f.place(.codegen, status: .queued)
        try f.place(.failed, status: .failed) { $0.error = JobError(stage: "codegen", code: "x", message: "y") }
        try f.spool.publish(Array("nope".utf8), as: "junk.json", to: .quarantine)
        try f.spool.publish(Array("why".utf8), as: "junk.json.reason", to: .quarantine)
        let r = try await f.run("spool")
        #expect(r.status == .exited(0), "stderr: \(r.stderr)")
        func row(_ dir: String) -> [Substring]? {
            r.stdout.split(separator: "\n").first { $0.hasPrefix(dir + " ") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        }
        #expect(row("codegen/")?[1] == "2")
        #expect(row("failed/")?[1] == "1")
        #expect(row("quarantine/")?[1] == "1")
        #expect(row("incoming/")?[1] == "0")
        #expect(row("incoming/")?[2] == "-")
        #expect(row("artifacts/") != nil)
        #expect(r.stdout.contains("free disk:"))
        #expect(r.stdout.contains("disk guard: down"))
    }

    @Test func humanAges() {
        #expect(Words.age(3.7) == "3s")
        #expect(Words.age(300) == "5m")
        #expect(Words.age(7_300) == "2h")
        #expect(Words.age(90_000) == "1d")
        #expect(Words.bytes(512) == "512 B")
        #expect(Words.bytes(3 << 20) == "3.0 MB")
    }
}
