// LessonPlanning: a problem's answer as a lesson's plan. The offline solver's
// scenes are checked one by one, kept as artifacts/<id>/scene-N.py, and the
// plan (SPEC §8) goes to render with every scene `queued`. A scene of ours that
// fails our own check is a bug: logged, and the job falls back to one scene.
import MathreelCheck
import MathreelCore
import MathreelSolver
import MathreelSpool

extension Codegen {
    /// Whether the job wants a lesson: a problem, unless it asked for one scene.
    static func wantsLesson(_ job: Job) -> Bool { job.kind == .problem && job.options.scenes != 1 }

    /// The plan from the solver's scenes, each checked and on file; nil when one fails our check.
    func plan(_ job: Job, _ scenes: [SolverScene], family: String) async throws -> LessonPlan? {
        guard scenes.count >= 2 else { return nil }
        let dir = try spool.artifacts(job.id)
        var planned: [PlannedScene] = []
        for (i, s) in scenes.prefix(Lesson.maxScenes).enumerated() {
            let check = try await checker.check(s.code, scene: s.scene)
            guard check.valid, let cls = check.scene else {
                logger.error("a scene of the offline solver's lesson failed the static check; one scene instead",
                             metadata: ["job_id": "\(job.id)", "family": "\(family)", "scene": "\(i + 1)", "errors": "\(check.message)"])
                return nil
            }
            try dir.write(Array(check.code.utf8), as: Lesson.codeFile(i + 1))
            planned.append(PlannedScene(n: i + 1, title: s.title, goal: s.goal, narration: s.narration,
                                        code: "artifacts/\(job.id)/\(Lesson.codeFile(i + 1))", sceneClass: cls))
        }
        return LessonPlan(scenes: planned)
    }

    /// The lesson onward to render/: its plan, its stages, what wrote it.
    func acceptLesson(_ job: Job, plan: LessonPlan, answer: String?, family: String?, calls: [Call],
                      started: ContinuousClock.Instant, provider: String = "offline", model: String = "sympy") -> Outcome {
        var job = job
        let asked = job.options.scenes.map { $0 == plan.scenes.count ? "" : " (\($0) asked; the built-in solver plans \(plan.scenes.count))" } ?? ""
        job.reach(.planning, note: "\(plan.scenes.count) scenes\(asked)")
        job.reach(.scenario_creation, note: "each scene's goal and narration written")
        job.plan = plan
        job.code = nil
        var codegen = job.codegen ?? CodegenRecord()
        codegen.provider = provider
        codegen.model = model
        codegen.answer = answer ?? codegen.answer
        if let family { codegen.family = family }
        codegen.calls = calls
        codegen.totalSeconds = (ContinuousClock.now - started).seconds
        job.codegen = codegen
        let missing = plan.scenes.filter { $0.status == .error }.map { String($0.n) }
        job.reach(.code_generation, note: missing.isEmpty ? "every scene's code written" : "no code for scene \(missing.joined(separator: ", ")); its slate will stand in")
        job.history.append(HistoryEntry(status: job.status.rawValue, by: "codegen", note: "a lesson of \(plan.scenes.count) scenes by \(provider) (\(model))"))
        return .handOn(job, to: .render)
    }
}
