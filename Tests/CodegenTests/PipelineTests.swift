// Problem to video with the real daemons: mathreel-codegen (offline solver, or a
// fake provider) then mathreel-render in its sandbox, until deliver/. One problem
// of every family renders; a render error goes back, is repaired, and renders.
import Foundation
import MathreelCore
import MathreelSpool
import Testing
import TestSupport

@Suite(.serialized) struct PipelineTests {
    static let onePerFamily = [
        "Solve 3x + 5 = 20", "x^2 - 5x + 6 = 0", "solve the system x+y=10, x-y=4", "differentiate x^3 sin(x)",
        "integrate x^2", "integrate x^2 from 0 to 3", "limit of sin(x)/x as x approaches 0", "plot y = x^2 - 4",
        "factor x^2 - 9", "expand (x+2)^3", "simplify (x^2-1)/(x-1)", "compute 1/2 + 3/4",
        "a right triangle has legs 3 and 4, find the hypotenuse", "area of a circle with radius 5",
        "sum of the first 20 terms of 3, 7, 11, ...", "sum of the first 8 terms of 2, 6, 18, ...", "determinant of [[1,2],[3,4]]",
    ]

    // Fifty-one scenes: the suite's long pole, rendered beside everything else on two cores.
    @Test(.timeLimit(.minutes(9)))
    func aProblemOfEveryFamilyBecomesAVideoOffline() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        var ids: [String: String] = [:]
        for p in Self.onePerFamily { ids[try submitProblem(spool, p, scenes: nil)] = p }
        let settings = ["MATHREEL_PYTHON": manimPython, "MATHREEL_PROVIDERS": "offline"]
        let codegen = try StartedDaemon.start("mathreel-codegen", dir, settings)
        let render = try StartedDaemon.start("mathreel-render", dir, settings)
        defer { codegen.kill(); render.kill() }
        let all = await waitUntil(timeout: 520, interval: 0.5) {
            count(spool, .deliver) + count(spool, .failed) + count(spool, .quarantine) >= ids.count
        }
        #expect(all, "\(codegen.log)\n\(render.log)")
        for job in jobs(in: spool, .failed) { Issue.record("\(ids[job.id] ?? job.id): \(job.error?.code ?? "") \(job.error?.message ?? "")") }
        let delivered = jobs(in: spool, .deliver)
        #expect(delivered.count == ids.count)
        var families = Set<String>()
        for job in delivered {
            #expect(job.codegen?.json["provider"] == .string("offline") && job.codegen?.json["answer"]?.stringValue?.isEmpty == false)
            families.insert(job.codegen?.json["family"]?.stringValue ?? "")
            let name = ids[job.id] ?? job.id
            #expect((job.render?.json["duration_s"]?.doubleValue ?? 0) >= 5, "\(name): a worked solution takes time to show")
            #expect(FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(job.id)/video.mp4"))
            // Every family is a lesson of at least three scenes, each rendered alone and joined frame for frame.
            let scenes = job.plan?.scenes ?? []
            #expect(scenes.count >= 3, "\(name): \(scenes.count) scenes")
            #expect(!job.degraded && scenes.allSatisfy { $0.status == .ready && !$0.slate }, "\(name): \(scenes.map { "\($0.status) \($0.error?.message ?? "")" })")
            var next = 0
            for scene in scenes {
                #expect(scene.startFrame == next && (scene.durationFrames ?? 0) > 0 && scene.endFrame == next + (scene.durationFrames ?? 0) - 1, "\(name) scene \(scene.n)")
                next += scene.durationFrames ?? 0
                #expect(FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(job.id)/scene-\(scene.n).py"))
                // The built-in solver's scenes never put text off the frame or on other text.
                #expect(scene.layout.isEmpty, "\(name) scene \(scene.n): \(Layout.words(scene.layout))")
            }
            // The verified answer is on screen in the last scene: highlighted, every number of it there.
            let last = (try? String(contentsOfFile: dir.spool + "/artifacts/\(job.id)/scene-\(scenes.count).py", encoding: .utf8)) ?? ""
            let numbers = (job.codegen?.json["answer"]?.stringValue ?? "").split(whereSeparator: { !$0.isNumber }).map(String.init)
            #expect(last.contains("answer = MathTex(") && numbers.allSatisfy { last.contains($0) }, "\(name): \(numbers) in \(last.suffix(600))")
            let fps = job.render?.json["fps"]?.doubleValue ?? 0
            #expect(abs(Double(next) / max(fps, 1) - (job.render?.json["duration_s"]?.doubleValue ?? 0)) < 0.1, "\(name): \(next) frames at \(fps) fps")
            #expect(job.stage == .combining && job.stages.map(\.stage) == [.initializing, .planning, .scenario_creation, .code_generation, .rendering, .combining],
                    "\(job.stages.map(\.stage))")
            #expect(job.progress == 90)
        }
        #expect(families.count == 17, "\(families.sorted())")
        let quadratic = try #require(delivered.first { ids[$0.id] == "x^2 - 5x + 6 = 0" })
        #expect(quadratic.codegen?.json["answer"] == .string("x = 2, x = 3"))
        _ = await codegen.stop(); _ = await render.stop()
    }

    @Test(.timeLimit(.minutes(4)))
    func aModelsLessonIsPlannedWrittenSceneBySceneAndAFailedSceneIsRepairedAlone() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        @Sendable func scene(_ n: Int, _ body: String) -> String {
            "from manim import *\n\nclass Scene\(n)(Scene):\n    def construct(self):\n        self.play(Write(Text(\"scene \(n)\")))\n        " + body + "\n"
        }
        let plan = #"{"scenes": [{"title": "The problem", "goal": "State it.", "narration": ["Here is the problem."]}, "#
            + #"{"title": "The steps", "goal": "Work it.", "narration": ["First, this."]}, {"title": "The answer", "goal": "Check it.", "narration": ["So."]}]}"#
        // Scene 2 fails at render until it is repaired; scene 3 fails every time, so its slate stands in.
        let server = try FakeHTTPServer { r in
            let messages = r.json?.objectValue?["messages"]?.arrayValue ?? []
            let system = messages.first?.objectValue?["content"]?.stringValue ?? ""
            let last = messages.last?.objectValue?["content"]?.stringValue ?? ""
            let user = messages.dropFirst().first?.objectValue?["content"]?.stringValue ?? ""
            if system.hasPrefix("You plan a short animated math lesson") { return .json(200, chatCompletion("```json\n" + plan + "\n```")) }
            let repairing = last.contains("That code failed")
            if user.contains("Write scene 1,") { return .json(200, chatCompletion(fenced(scene(1, "self.wait(0.5)")))) }
            if user.contains("Write scene 2,") { return .json(200, chatCompletion(fenced(scene(2, repairing ? "self.wait(0.5)" : "x = 1 / 0")))) }
            // Scene 3's code comes late the first time, so the plan can be seen while it is written.
            if !repairing { usleep(1_500_000) }
            return .json(200, chatCompletion(fenced(scene(3, "self.play(Write(undefined_thing))"))))
        }
        let id = try submitProblem(spool, modelOnlyProblem, scenes: nil)
        let settings = chainSettings(server, "groq").merging(["MATHREEL_MAX_REPAIRS": "1", "PLANNER_MODEL": "groq:planner-x",
                                                              "MATHREEL_SCENE_MODEL": "scene-y"]) { $1 }
        let codegen = try StartedDaemon.start("mathreel-codegen", dir, settings)
        let render = try StartedDaemon.start("mathreel-render", dir, ["MATHREEL_PYTHON": manimPython, "MATHREEL_MAX_REPAIRS": "1"])
        defer { codegen.kill(); render.kill() }
        // While codegen writes the scenes, the job it holds shows the plan with scene 3 still being written (its
        // reply takes 1.5 s whichever order the fake serves them in; which others are done by then varies).
        let writing = await waitUntil(timeout: 60, interval: 0.05) {
            guard let found = spool.find(id), case .active = found.place, let scenes = found.job?.plan?.scenes, scenes.count == 3 else { return false }
            return found.job?.stage == .planning && scenes[2].status == .generating_code && scenes.map(\.title) == ["The problem", "The steps", "The answer"]
        }
        #expect(writing, "\(codegen.log)")
        #expect(await waitUntil(timeout: 150, interval: 0.3) { count(spool, .deliver) + count(spool, .failed) == 1 }, "\(codegen.log)\n\(render.log)")
        let job = try #require(jobs(in: spool, .deliver).first, "\(jobs(in: spool, .failed).first?.error?.message ?? "")")
        #expect(job.id == id && job.degraded)
        let scenes = try #require(job.plan?.scenes)
        #expect(scenes.map(\.title) == ["The problem", "The steps", "The answer"] && scenes[0].narration == ["Here is the problem."])
        #expect(scenes.map(\.status) == [.ready, .ready, .error] && scenes.map(\.slate) == [false, false, true])
        // Scene 1 was written once and rendered once; scene 2 rewritten once and rendered twice; scene 3 gave up after its repair.
        #expect(scenes.map(\.renders) == [1, 2, 2] && scenes.map(\.repairs) == [0, 1, 1] && scenes.map(\.version) == [1, 2, 2], "\(scenes.map { ($0.renders, $0.repairs, $0.version) })")
        #expect(scenes.map(\.attempts) == [1, 2, 2])
        let asks = server.requests.compactMap { $0.json?.objectValue }
        func user(_ o: JSONObject) -> String { o["messages"]?.arrayValue?.dropFirst().first?.objectValue?["content"]?.stringValue ?? "" }
        #expect(asks.filter { user($0).contains("Write scene 1,") }.count == 1, "scene 1 is never written again")
        #expect(asks.filter { user($0).contains("Write scene 2,") }.count == 2 && asks.filter { user($0).contains("Write scene 3,") }.count == 2)
        let repair = asks.first { user($0).contains("Write scene 2,") && ($0["messages"]?.arrayValue?.count ?? 0) > 2 }
        #expect(repair?["messages"]?.arrayValue?.last?.objectValue?["content"]?.stringValue?.contains("ZeroDivisionError") == true)
        // The roles' models: the planner's named with its provider, the scenes' bare (the first model provider's).
        #expect(asks.first?["model"] == .string("planner-x") && asks.dropFirst().allSatisfy { $0["model"] == .string("scene-y") })
        #expect(job.codegen?.json["provider"] == .string("groq") && job.codegen?.json["model"] == .string("scene-y"))
        #expect(job.stages.map(\.stage) == [.initializing, .planning, .scenario_creation, .code_generation, .rendering, .combining], "\(job.stages.map(\.stage))")
        #expect(FileManager.default.fileExists(atPath: dir.spool + "/artifacts/\(id)/scene-2-attempt-2.py"))
        _ = await codegen.stop(); _ = await render.stop()
    }

    @Test(.timeLimit(.minutes(3)))
    func aRenderErrorComesBackIsRepairedAndTheRepairedCodeRenders() async throws {
        let dir = TempDir()
        let spool = try Spool(root: dir.spool)
        let broken = goodScene.replacing("self.wait(0.5)", with: "self.wait(0.5)\n        self.play(Write(undefined_thing))")
        // The model's first scene fails at render time; asked to repair, it sends a good one.
        let server = try FakeHTTPServer { r in
            let text = r.json?.objectValue?["messages"]?.arrayValue?.last?.objectValue?["content"]?.stringValue ?? ""
            return .json(200, chatCompletion(fenced(text.contains("That code failed") ? goodScene : broken)))
        }
        let id = try submitProblem(spool, modelOnlyProblem)
        let codegen = try StartedDaemon.start("mathreel-codegen", dir, chainSettings(server, "groq"))
        let render = try StartedDaemon.start("mathreel-render", dir, ["MATHREEL_PYTHON": manimPython])
        defer { codegen.kill(); render.kill() }
        #expect(await waitUntil(timeout: 150, interval: 0.3) { count(spool, .deliver) == 1 }, "\(codegen.log)\n\(render.log)")
        let job = try #require(jobs(in: spool, .deliver).first)
        #expect(job.id == id && job.codegen?.json["repairs"]?.intValue == 1 && job.code == goodScene)
        let repairRequest = try #require(server.requests.last?.json?.objectValue?["messages"]?.arrayValue?.last?.objectValue?["content"]?.stringValue)
        #expect(repairRequest.contains("NameError") && repairRequest.contains("undefined_thing"), "\(repairRequest)")
        #expect(job.history.contains { $0.note?.hasPrefix("repair 1 of 2") == true } && job.history.contains { $0.note?.hasPrefix("repaired after") == true })
        let attempts = try FileManager.default.contentsOfDirectory(atPath: dir.spool + "/artifacts/\(id)").filter { $0.hasPrefix("attempt-") }
        #expect(attempts.count == 2, "the failing attempt and the repair: \(attempts)")
        _ = await codegen.stop(); _ = await render.stop()
    }
}
