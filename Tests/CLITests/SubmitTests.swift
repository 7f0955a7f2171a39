// `mathreel submit`: the id alone on line 1 and the job in incoming/ with its
// options; invalid input refused with ingest's own messages (exit 2, nothing
// written); the disk guard refusing new work (exit 75).
import Foundation
import MathreelCore
import MathreelDaemon
import MathreelSpool
import MathreelSystem
import TestSupport
import Testing

@Suite struct SubmitTests {
    @Test func printsTheIDAloneAndPublishesIntoIncoming() async throws {
        let f = try CLIFixture()
        let r = try await f.run("submit", ["--problem", "Solve x^2 - 5x + 6 = 0", "--quality", "medium", "--format", "webm"])
        #expect(r.status == .exited(0), "stderr: \(r.stderr)")
        let id = try #require(idLine(r.stdout), "first line: \(r.stdout)")
        #expect(f.names(.incoming) == ["\(id).json"])
        let bytes = try #require(f.spool.peek(.incoming, FileName("\(id).json")))
        let job = try Job.decode(bytes)
        #expect(job.id == id)
        #expect(job.kind == .problem)
        #expect(job.problem == "Solve x^2 - 5x + 6 = 0")
        #expect(job.options.quality == .medium)
        #expect(job.options.format == .webm)
        #expect(job.status == .queued)
        #expect(job.origin.channel == .file)
        #expect(job.next == "incoming")
        #expect(f.names(.tmp).isEmpty)
    }

    @Test func submitsCodeFromAFile() async throws {
        let f = try CLIFixture()
        let scene = f.dir.path + "/scene.py"
        try "from manim import *\nclass S(Scene):\n    def construct(self):\n        self.add(Circle())\n".write(toFile: scene, atomically: true, encoding: .utf8)
        let r = try await f.run("submit", ["--code", scene])
        #expect(r.status == .exited(0), "stderr: \(r.stderr)")
        let id = try #require(idLine(r.stdout))
        let job = try Job.decode(try #require(f.spool.peek(.incoming, FileName("\(id).json"))))
        #expect(job.kind == .code)
        #expect(job.code?.contains("class S(Scene)") == true)
        #expect(job.options.quality == .low)
    }

    @Test func refusesInvalidInputWithReadableMessages() async throws {
        let f = try CLIFixture()
        let short = try await f.run("submit", ["--problem", "x^2 = 4 ?"])
        #expect(short.status == .exited(2))
        #expect(short.stderr.contains("`problem` is too short (9 characters)"), "stderr: \(short.stderr)")
        #expect(short.stdout.isEmpty)

        let quality = try await f.run("submit", ["--problem", "Solve x^2 - 5x + 6 = 0", "--quality", "ultra"])
        #expect(quality.status == .exited(2))
        #expect(quality.stderr.contains("`options.quality` must be one of low, medium, high; got 'ultra'"), "stderr: \(quality.stderr)")

        let neither = try await f.run("submit")
        #expect(neither.status == .exited(2))
        #expect(neither.stderr.contains("--problem"))

        let missing = try await f.run("submit", ["--code", f.dir.path + "/nope.py"])
        #expect(missing.status == .exited(2))
        #expect(missing.stderr.contains("there is no file"), "stderr: \(missing.stderr)")

        #expect(f.names(.incoming).isEmpty)
        #expect(f.names(.tmp).isEmpty)
    }

    @Test func refusesWhileTheDiskGuardIsUp() async throws {
        let f = try CLIFixture()
        #expect(DiskGuard.update(f.spool, minFreeBytes: Int64.max).raised)
        let r = try await f.run("submit", ["--problem", "Solve x^2 - 5x + 6 = 0"])
        #expect(r.status == .exited(75))
        #expect(r.stderr.contains("disk is nearly full"), "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(f.names(.incoming).isEmpty)
    }
}
