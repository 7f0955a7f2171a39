// `mathreel submit --wait`: the test plays the pipeline by hand, claiming the
// job from incoming/ and moving it to failed/ (exit 1 with the error message) or
// to ready/ with a link (exit 0 printing it); a job nobody takes brings the
// ingest hint, and --timeout gives up with 124.
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import TestSupport
import Testing

@Suite struct WaitTests {
    /// Starts `submit --wait`, and returns it with the claimed job once it is in incoming/.
    func submitAndClaim(_ f: CLIFixture) async throws -> (Background, Claim, Job) {
        let bg = try f.start("submit", ["--problem", "Solve x^2 - 5x + 6 = 0", "--wait", "--timeout", "60"])
        #expect(await waitUntil(timeout: 20) { idLine(bg.stdout) != nil }, "stderr: \(bg.stderr)")
        let id = try #require(idLine(bg.stdout))
        guard case .claimed(let claim) = f.spool.claim(FileName("\(id).json"), from: .incoming) else {
            Issue.record("could not claim \(id)")
            throw CancellationError()
        }
        var job = try claim.job()
        job.record(.ai_generating, by: "test")
        return (bg, claim, job)
    }

    @Test func exitsOneWithTheErrorWhenTheJobFails() async throws {
        let f = try CLIFixture()
        let (bg, claim, job) = try await submitAndClaim(f)
        try claim.fail(job, error: JobError(stage: "render", code: ErrorCode.renderTimeout,
                                            message: "The animation took longer than 300 s to render."), by: "test")
        let t = await bg.finish(timeout: 20)
        #expect(t == .exited(1), "stderr: \(bg.stderr)")
        #expect(bg.stderr.contains("The animation took longer than 300 s to render."))
        #expect(bg.stdout.split(separator: "\n").count == 1)
    }

    @Test func exitsZeroWithTheLinkWhenTheJobIsReady() async throws {
        let f = try CLIFixture()
        let (bg, claim, job) = try await submitAndClaim(f)
        // Let the follower see the job in flight first.
        try claim.handOn(job, to: .codegen)
        #expect(await waitUntil(timeout: 10) { bg.stderr.contains("ai_generating") })
        try await advance(f.spool, job.id, from: .codegen, to: .ready) { ready in
            ready.render = ["video": .string("artifacts/\(job.id)/video.mp4")]
            ready.delivery = ["url": .string("https://example.test/v/abc123")]
            ready.record(.ready, by: "test")
        }

        let t = await bg.finish(timeout: 20)
        #expect(t == .exited(0), "stderr: \(bg.stderr)")
        let lines = bg.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == job.id)
        #expect(bg.stdout.contains("https://example.test/v/abc123"))
        #expect(bg.stdout.contains("/artifacts/\(job.id)/video.mp4"))
    }

    /// No ingest daemon here: after 10 s in incoming/ comes the hint, then the timeout.
    @Test func hintsAtIngestThenGivesUpAfterTheTimeout() async throws {
        let f = try CLIFixture()
        let r = try await f.run("submit", ["--problem", "Solve x^2 - 5x + 6 = 0", "--wait", "--timeout", "11"])
        #expect(r.status == .exited(124))
        #expect(r.stderr.contains("is mathreel-ingest running? start `mathreel up`"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("gave up waiting after 11 s"), "stderr: \(r.stderr)")
        #expect(r.stderr.contains("incoming/"))
        #expect(idLine(r.stdout) != nil)
    }
}
