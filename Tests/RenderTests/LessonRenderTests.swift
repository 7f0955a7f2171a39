// A lesson's scenes through mathreel-render: each rendered alone, joined frame for
// frame; a scene that fails (at render, at the check, or naming a class its code
// lacks) is replaced by its slate and the lesson still comes out, marked degraded;
// only a lesson none of whose own scenes rendered fails; a scene already rendered
// elsewhere is served from the cache.
import Foundation
import MathreelCore
import MathreelSpool
import Testing
import TestSupport

/// Publishes a lesson into render/ whose scene n's code is `bodies[n-1]` (as class Demo); returns its id.
@discardableResult
func submitLesson(_ spool: Spool, _ bodies: [String], classes: [String?] = [], plannedCode: String? = nil) throws -> String {
    var job = Job(kind: .problem, problem: "A lesson made by a test", origin: JobOrigin(channel: .file))
    let dir = try spool.artifacts(job.id)
    var scenes: [PlannedScene] = []
    for (i, body) in bodies.enumerated() {
        try dir.write(Array(sceneCode(body).utf8), as: Lesson.codeFile(i + 1))
        let cls = i < classes.count ? classes[i] : "Demo"
        scenes.append(PlannedScene(n: i + 1, title: "Scene number \(i + 1)", goal: "What scene \(i + 1) shows, in words.",
                                   narration: ["Sentence of scene \(i + 1)."], code: plannedCode ?? "artifacts/\(job.id)/\(Lesson.codeFile(i + 1))",
                                   sceneClass: cls))
    }
    job.plan = LessonPlan(scenes: scenes)
    job.codegen = ["provider": .string("offline"), "answer": .string("42")]
    job.record(.queued, by: "test")
    try spool.submit(job, to: .render)
    return job.id
}

/// A video's frames as ffprobe counts them (every packet read).
func frameCount(_ file: String) async throws -> Int? {
    let r = try await runCommand("/usr/bin/ffprobe", ["-v", "error", "-count_packets", "-select_streams", "v:0",
                                                      "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", file])
    return Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
}

@Suite struct LessonRenderTests {
    @Test(.timeLimit(.minutes(4)))
    func aFailedSceneIsReplacedByItsSlateAndTheLessonStillComesOut() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let first = "self.play(Write(Text(\"one\")))\nself.wait(0.5)"
        let third = "self.play(Create(Circle()))"
        let degraded = try submitLesson(spool, [first, "self.play(Write(Circle()))\nx = 1 / 0", third])
        let rejected = try submitLesson(spool, ["import os\nos.system('id')", third, "self.add(Square())\nself.wait(1)"], classes: [nil, "Nope", nil])
        let hopeless = try submitLesson(spool, ["x = 1 / 0", "self.play(Write(undefined_thing))"])
        let daemon = try RenderDaemon.start(dir, ["MATHREEL_MAX_SCENE_CONCURRENCY": "2"])
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 180, interval: 0.3) { count(spool, .deliver) + count(spool, .failed) == 3 }, "\(daemon.log)")
        // Scenes 1 and 3 of the first lesson again; the plan's `code` points at another job's file, which is never read.
        let again = try submitLesson(spool, [first, third], plannedCode: "artifacts/\(degraded)/scene-2.py")
        #expect(await waitUntil(timeout: 60, interval: 0.3) { count(spool, .deliver) + count(spool, .failed) == 4 }, "\(daemon.log)")
        #expect(await daemon.stop() == .exited(0))
        let delivered = Dictionary(uniqueKeysWithValues: jobs(in: spool, .deliver).map { ($0.id, $0) })
        let failed = Dictionary(uniqueKeysWithValues: jobs(in: spool, .failed).map { ($0.id, $0) })

        // Scene 2 failed at render time: its slate stands in, and the job says which and why.
        let d = try #require(delivered[degraded], "\(failed[degraded]?.error?.message ?? "")")
        let scenes = try #require(d.plan?.scenes)
        #expect(d.degraded)
        #expect(scenes.map(\.status) == [.ready, .error, .ready])
        #expect(scenes.map(\.slate) == [false, true, false])
        #expect(scenes[1].error?.code == ErrorCode.renderFailed && scenes[1].error?.message.contains("ZeroDivisionError") == true, "\(scenes[1].error?.message ?? "")")
        #expect(d.stages.last?.stage == .combining && d.stages.last?.note == "scene 2 replaced by a slate")
        // The boundaries: contiguous, and the joined video has exactly their sum.
        var next = 0
        for s in scenes {
            #expect(s.startFrame == next && s.endFrame == next + (s.durationFrames ?? 0) - 1 && (s.durationFrames ?? 0) > 0)
            next += s.durationFrames ?? 0
        }
        #expect(try await frameCount(dir.spool + "/artifacts/\(degraded)/video.mp4") == next)
        // The slate holds still for 4 s at 15 fps; each scene's own video is kept beside the lesson.
        #expect(scenes[1].durationFrames == 60, "\(scenes[1].durationFrames ?? 0)")
        for n in 1...3 { #expect(try await frameCount(dir.spool + "/artifacts/\(degraded)/scene-\(n).mp4") == scenes[n - 1].durationFrames) }
        #expect(d.render?.json["video"] == .string("artifacts/\(degraded)/video.mp4"))
        #expect(d.render?.json["thumbnail"] == .string("artifacts/\(degraded)/thumbnail.jpg"))
        #expect(abs((d.render?.json["duration_s"]?.doubleValue ?? 0) - Double(next) / 15) < 0.1)

        // A scene refused by the check and a scene whose class is not in its code: both slates.
        let r = try #require(delivered[rejected], "\(failed[rejected]?.error?.message ?? "")")
        #expect(r.degraded && r.plan?.scenes.map(\.slate) == [true, true, false])
        #expect(r.plan?.scenes[0].error?.code == ErrorCode.codeRejected && r.plan?.scenes[0].error?.message.contains("import os") == true)
        #expect(r.plan?.scenes[1].error?.code == ErrorCode.codeRejected && r.plan?.scenes[1].error?.message.contains("Nope") == true,
                "\(r.plan?.scenes[1].error?.message ?? "")")

        // No scene of its own: no lesson of slates only, but a clear failure.
        let h = try #require(failed[hopeless])
        #expect(h.error?.message.hasPrefix("No scene of the lesson could be rendered.") == true, "\(h.error?.message ?? "")")
        #expect(h.plan?.scenes.allSatisfy { $0.status == .error } == true)

        // The same scenes in another lesson are the cache's: the first scene's video, byte for byte.
        let a = try #require(delivered[again])
        #expect(a.render?.json["cache_hit"] == .bool(true) && !a.degraded)
        #expect(a.plan?.scenes.map(\.durationFrames) == [scenes[0].durationFrames, scenes[2].durationFrames])
        let mine = try Data(contentsOf: URL(fileURLWithPath: dir.spool + "/artifacts/\(again)/scene-1.mp4"))
        let theirs = try Data(contentsOf: URL(fileURLWithPath: dir.spool + "/artifacts/\(degraded)/scene-1.mp4"))
        #expect(mine == theirs && !mine.isEmpty)
    }

    @Test(.timeLimit(.minutes(3)))
    func directCodeWithSeveralScenesIsOneVideoOfThemAllInFileOrder() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        // Titled builds on Scene and Second builds on Titled: Titled is a base, not a scene of the video.
        let code = """
            from manim import *

            class First(Scene):
                def construct(self):
                    self.play(Create(Square()))

            class Titled(Scene):
                def construct(self):
                    self.play(Write(Text("base")))

            class Second(Titled):
                def construct(self):
                    super().construct()
                    self.wait(0.5)

            class Third(Scene):
                def construct(self):
                    self.play(FadeIn(Circle()))
                    self.wait(1)

            """
        func submit(_ code: String, scene: String? = nil) throws -> String {
            var job = Job(kind: .code, code: code, origin: JobOrigin(channel: .file))
            if let scene { job.extra["scene"] = .string(scene) }
            job.record(.queued, by: "test")
            try spool.submit(job, to: .render)
            return job.id
        }
        let all = try submit(code)
        let broken = try submit(code.replacing("self.wait(1)", with: "x = 1 / 0"))
        let daemon = try RenderDaemon.start(dir)
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 150, interval: 0.3) { count(spool, .deliver) + count(spool, .failed) == 2 }, "\(daemon.log)")
        // After the lesson: its scenes' raw renders are never served as a whole video (no thumbnail, no faststart).
        let one = try submit(code, scene: "Third")
        #expect(await waitUntil(timeout: 60, interval: 0.3) { count(spool, .deliver) + count(spool, .failed) == 3 }, "\(daemon.log)")
        #expect(await daemon.stop() == .exited(0))
        let delivered = Dictionary(uniqueKeysWithValues: jobs(in: spool, .deliver).map { ($0.id, $0) })
        let a = try #require(delivered[all])
        #expect(a.plan?.scenes.map(\.sceneClass) == ["First", "Second", "Third"] && a.plan?.scenes.map(\.title) == ["First", "Second", "Third"])
        let frames = a.plan?.scenes.compactMap(\.durationFrames) ?? []
        #expect(frames.count == 3 && frames[0] == 15 && frames[1] == 22 && frames[2] == 30, "1 s, 1 s + 0.5 s (7 frames: Manim rounds down) and 2 s at 15 fps: \(frames)")
        #expect(try await frameCount(dir.spool + "/artifacts/\(all)/video.mp4") == frames.reduce(0, +))
        // `scene` still picks one: no plan, one video of it.
        let o = try #require(delivered[one])
        #expect(o.plan == nil && o.render?.json["scene"] == .string("Third") && o.render?.json["cache_hit"] == .bool(false))
        #expect(o.render?.json["thumbnail"] == .string("artifacts/\(one)/thumbnail.jpg"))
        // A person's own scene that fails fails the job with its error: theirs to fix, no slate.
        let b = try #require(jobs(in: spool, .failed).first { $0.id == broken })
        #expect(b.error?.message.hasPrefix("Scene 3 (`Third`) failed:") == true && b.error?.message.contains("ZeroDivisionError") == true, "\(b.error?.message ?? "")")
    }

    @Test(.timeLimit(.minutes(2)))
    func noSceneStartsOnceTheLessonsTimeIsUp() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        // One scene at a time, and a second for the lesson: scene 1 takes longer than that to compute.
        let id = try submitLesson(spool, ["total = sum(range(2 * 10**8))\nself.play(Create(Square()))", "self.play(Create(Circle()))", "self.wait(1)"])
        let daemon = try RenderDaemon.start(dir, ["MATHREEL_MAX_SCENE_CONCURRENCY": "1", "MATHREEL_LESSON_TIMEOUT_S": "1"])
        defer { daemon.kill() }
        #expect(await waitUntil(timeout: 90, interval: 0.3) { count(spool, .deliver) + count(spool, .failed) == 1 }, "\(daemon.log)")
        let job = try #require(jobs(in: spool, .deliver).first { $0.id == id }, "\(jobs(in: spool, .failed).first?.error?.message ?? "")")
        let scenes = try #require(job.plan?.scenes)
        #expect(job.degraded && scenes.map(\.status) == [.ready, .error, .error] && scenes.map(\.slate) == [false, true, true])
        #expect(scenes.map(\.renders) == [1, 0, 0], "the scenes out of time were never started")
        #expect(scenes[1].error?.code == ErrorCode.renderTimeout && scenes[1].error?.message.contains("ran out before scene 2 could start") == true)
    }
}

