// Editing one scene of a lesson: `mathreel edit` makes version 2 whose other scenes'
// code is the parent's byte for byte; the built-in editor's vocabulary changes only
// the scene asked for (slower is longer by its factor); anything outside it, with no
// model, fails as edit_needs_model; an edit works after the parent's video was
// watched and deleted (its scene code is kept with its metadata), and an edit of an
// edit finds the unchanged scenes in the render cache.
import Foundation
@testable import CodegenService
import MathreelCore
import MathreelSpool
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

@Suite struct OfflineEditorTests {
    typealias Change = OfflineEditor.Change

    @Test func theVocabularyIsReadAndAnythingElseIsRefused() {
        #expect(OfflineEditor.understand("make it a bit slower, please") == Change(pace: 1.5))
        #expect(OfflineEditor.understand("Faster") == Change(pace: 1 / 1.5))
        #expect(OfflineEditor.understand("show each step in green") == Change(pause: 1.0, colour: "GREEN"))
        #expect(OfflineEditor.understand("larger") == Change(zoom: 1.15))
        // A word the editor does not know is never guessed at: a model is needed.
        #expect(OfflineEditor.understand("slower and add a graph of the line") == nil)
        #expect(OfflineEditor.understand("explain it like I am five") == nil)
        #expect(OfflineEditor.understand("please") == nil, "no change asked")
    }

    @Test func editsAddUpWithinBoundsAndAColourReplacesTheHighlight() throws {
        let code = "from manim import *\n\nclass Answer(Scene):\n    def construct(self):\n        self.play(Write(MathTex('x = 5', color=YELLOW)))\n        self.add(Dot(color=YELLOW_A))\n"
        guard case .edited(let once, let cls) = OfflineEditor.apply(Change(pace: 1.5), to: code, scene: "Answer") else { Issue.record("refused"); return }
        #expect(cls == "AnswerEdited" && once.hasPrefix(code) && once.contains("class AnswerEdited(Answer):") && once.contains("    mathreel_pace = 1.5\n"))
        guard case .edited(let twice, let cls2) = OfflineEditor.apply(Change(pace: 1.5, colour: "GREEN"), to: once, scene: cls) else { Issue.record("refused"); return }
        #expect(cls2 == "AnswerEdited" && twice.contains("    mathreel_pace = 2.25\n") && twice.components(separatedBy: "class AnswerEdited").count == 2)
        #expect(twice.contains("color=GREEN)") && twice.contains("YELLOW_A"), "YELLOW became GREEN; YELLOW_A is another name")
        var many = twice
        for _ in 0..<20 { if case .edited(let c, _) = OfflineEditor.apply(Change(pace: 1.5), to: many, scene: "AnswerEdited") { many = c } }
        #expect(many.contains("    mathreel_pace = 4.0\n"), "a hundred slowers make a slow scene, not an endless one")
        guard case .refused(let why) = OfflineEditor.apply(Change(colour: "RED"), to: "from manim import *\nclass S(Scene):\n    def construct(self):\n        self.wait(1)\n", scene: "S") else {
            Issue.record("a scene with no highlight took a colour"); return
        }
        #expect(why.contains("no highlight colour"))
    }
}

@Suite(.serialized) struct EditTests {
    @Test(.timeLimit(.minutes(5)))
    func anEditChangesOnlyItsSceneAndWorksAfterTheVideoIsGone() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let settings = ["MATHREEL_PYTHON": manimPython, "MATHREEL_PROVIDERS": "offline"]
        let codegen = try StartedDaemon.start("mathreel-codegen", dir, settings)
        let render = try StartedDaemon.start("mathreel-render", dir, settings)
        defer { codegen.kill(); render.kill() }
        func rendered(_ id: String) async -> Job? {
            _ = await waitUntil(timeout: 120, interval: 0.3) { spool.locate(id) == .deliver || spool.locate(id) == .failed }
            return jobs(in: spool, .deliver).first { $0.id == id } ?? jobs(in: spool, .failed).first { $0.id == id }
        }
        /// What deliver and the janitor would do: the link used, the video deleted, the metadata in done/.
        func watched(_ job: Job) throws {
            try FileManager.default.moveItem(atPath: spool.path(.deliver, job.id + ".json"), toPath: spool.path(.done, job.id + ".json"))
            _ = spool.deleteVideo(of: job.id, VideoIndex(path: dir.state + "/videos"), RenderCache(config: try Config(environment: ["MATHREEL_STATE": dir.state])),
                                  keepingCode: true)
        }
        func edit(_ id: String, _ n: Int, _ words: String) async throws -> (CommandResult, String?) {
            let r = try await runCommand(Binaries.path("mathreel"), ["edit", "--spool", dir.spool, "--state", dir.state, id, "--scene", "\(n)", words])
            return (r, r.stdout.split(separator: "\n").first.map(String.init))
        }
        func code(_ id: String, _ n: Int) -> String? { try? String(contentsOfFile: dir.spool + "/artifacts/\(id)/scene-\(n).py", encoding: .utf8) }

        let first = try submitProblem(spool, "Solve 3x + 5 = 20", scenes: nil)
        let parent = try #require(await rendered(first))
        let scenes1 = try #require(parent.plan?.scenes)
        #expect(scenes1.count == 3 && scenes1.allSatisfy { $0.status == .ready })
        try watched(parent)
        #expect(!FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(first)/video.mp4"))
        let kept = (0..<3).map { code(first, $0 + 1) }
        #expect(kept.allSatisfy { $0 != nil }, "the scene code outlives the video")

        // Version 2: scene 2 slower; scenes 1 and 3 the parent's code byte for byte, rendered again from it.
        let (r2, second) = try await edit(first, 2, "make it slower")
        #expect(r2.status == .exited(0), "\(r2.stderr)")
        let secondID = try #require(second)
        let v2 = try #require(await rendered(secondID), "\(codegen.log)")
        #expect(v2.version == 2 && v2.parentID == first && v2.error == nil, "\(v2.error?.message ?? "")")
        #expect(code(v2.id, 1) == kept[0] && code(v2.id, 3) == kept[2] && code(v2.id, 2) != kept[1])
        #expect(code(v2.id, 2)?.hasPrefix(kept[1] ?? "-") == true, "the scene's own code stays; the edit is added after it")
        let scenes2 = try #require(v2.plan?.scenes)
        #expect(scenes2.map(\.version) == [1, 2, 1] && scenes2.allSatisfy { $0.status == .ready && $0.edit == nil })
        #expect(scenes2.map(\.renders) == [1, 1, 1], "the parent's renders went with its video: every scene is rendered from its kept code")
        // Slower by 1.5: the edited scene's frames, within a frame or two per animation.
        let before = Double(scenes1[1].durationFrames ?? 0), after = Double(scenes2[1].durationFrames ?? 0)
        #expect(abs(after - before * 1.5) <= 6, "\(before) frames became \(after)")
        #expect(scenes2[0].durationFrames == scenes1[0].durationFrames && scenes2[2].durationFrames == scenes1[2].durationFrames)

        // Version 3 from version 2 while its link is unused: the unchanged scenes are the cache's, only scene 3 is rendered.
        try FileManager.default.moveItem(atPath: spool.path(.deliver, v2.id + ".json"), toPath: spool.path(.ready, v2.id + ".json"))
        let (_, third) = try await edit(v2.id, 3, "show each step")
        let thirdID = try #require(third)
        let v3 = try #require(await rendered(thirdID))
        #expect(v3.version == 3 && v3.parentID == v2.id)
        #expect(code(v3.id, 2) == code(v2.id, 2), "version 2's edit carries over")
        #expect((v3.plan?.scenes[2].durationFrames ?? 0) > (scenes1[2].durationFrames ?? 0))
        #expect(v3.plan?.scenes.map(\.renders) == [0, 0, 1] && v3.plan?.scenes.map(\.cacheHit) == [true, true, false])

        // With MATHREEL_SCENE_KEEP_S the watched version's scene videos stay: an edit renders only its scene.
        try FileManager.default.moveItem(atPath: spool.path(.deliver, v3.id + ".json"), toPath: spool.path(.done, v3.id + ".json"))
        _ = spool.deleteVideo(of: v3.id, VideoIndex(path: dir.state + "/videos"), RenderCache(config: try Config(environment: ["MATHREEL_STATE": dir.state])),
                              keepingCode: true, keepingScenes: true)
        let (_, fifth) = try await edit(v3.id, 1, "faster")
        let fifthID = try #require(fifth)
        let v5 = try #require(await rendered(fifthID))
        #expect(v5.error == nil && v5.plan?.scenes.map(\.renders) == [1, 0, 0], "\(v5.plan?.scenes.map(\.renders) ?? [])")
        #expect(v5.plan?.scenes.dropFirst().map(\.durationFrames) == v3.plan?.scenes.dropFirst().map(\.durationFrames) && (v5.plan?.scenes[0].durationFrames ?? 99) < (v3.plan?.scenes[0].durationFrames ?? 0))

        // Outside the vocabulary, with no model: a clear failure that says how to get one.
        let (_, fourth) = try await edit(v2.id, 1, "add a graph of the line")
        let fourthID = try #require(fourth)
        let v4 = try #require(await rendered(fourthID))
        #expect(v4.error?.code == ErrorCode.editNeedsModel && v4.error?.message.contains("MATHREEL_PROVIDERS") == true, "\(v4.error?.message ?? "")")

        // Refusals, before any job is made.
        let (none, _) = try await edit(first, 9, "slower")
        #expect(none.status == .exited(2) && none.stderr.contains("has scenes 1 to 3; there is no scene 9") && none.stderr.contains("no_such_scene"), "\(none.stderr)")
        let busy = try submitProblem(spool, "Solve 2x = 8", scenes: nil)
        let (early, _) = try await edit(busy, 1, "slower")
        #expect(early.status == .exited(2) && early.stderr.contains("still being made"), "\(early.stderr)")
        _ = await codegen.stop(); _ = await render.stop()
    }
}

@Suite struct PlanCheckpointTests {
    /// A crash while a model's scenes were being written leaves the shown plan in the claimed
    /// file (every scene `generating_code`, none with an error or an edit): that is planned
    /// again, never taken for scenes render sent back.
    @Test(.timeLimit(.minutes(2)))
    func aPlanLeftByACrashIsPlannedAgain() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        var job = Job(kind: .problem, problem: "Solve 3x + 5 = 20", options: JobOptions(maxDurationS: 180), origin: JobOrigin(channel: .file))
        job.record(.queued, by: "test")
        job.reach(.planning, note: "2 scenes")
        job.plan = LessonPlan(scenes: [PlannedScene(n: 1, title: "Half written", status: .queued),
                                       PlannedScene(n: 2, title: "Not yet", status: .generating_code)])
        try spool.submit(job, to: .codegen)
        let codegen = try StartedDaemon.start("mathreel-codegen", dir, ["MATHREEL_PYTHON": manimPython, "MATHREEL_PROVIDERS": "offline"])
        defer { codegen.kill() }
        #expect(await waitUntil(timeout: 60, interval: 0.2) { count(spool, .render) + count(spool, .failed) == 1 }, "\(codegen.log)")
        let planned = try #require(jobs(in: spool, .render).first, "\(jobs(in: spool, .failed).first?.error?.message ?? "")")
        #expect(planned.plan?.scenes.count == 3 && planned.plan?.scenes.allSatisfy { $0.status == .queued } == true)
        #expect(planned.plan?.scenes.first?.title != "Half written")
        _ = await codegen.stop()
    }
}
