// Planner: a lesson written by a model. The planner prompt (prompt/planner_prompt.md)
// asks for the plan as JSON, read here strictly; each scene's code is then asked
// for alone with the scene prompt (prompt/scene_prompt.md), the whole plan and the
// verified answer, several scenes at once. A scene a model cannot write passing the
// check is marked `error` (render puts its slate in its place); a plan whose every
// scene failed is the provider's failure, and the chain goes on.
import MathreelCheck
import MathreelCore
import MathreelProviders
import MathreelSpool

extension Prompt {
    static let plannerSystem = String(decoding: PackageResources.planner_prompt_md, as: UTF8.self).trimmed()
    static let sceneSystem = String(decoding: PackageResources.scene_prompt_md, as: UTF8.self).trimmed()

    /// The planner's request; `scenes` nil lets it choose 3 to 6.
    static func planner(problem: String, context: String?, verifiedAnswer: String?, scenes: Int?) -> [ChatMessage] {
        let count = scenes.map { "exactly \($0)" } ?? "3 to 6"
        var user = ""
        if let context, !context.trimmed().isEmpty { user += "The previous problem in this conversation was: \(context.trimmed())\n\n" }
        user += "Problem: \(problem.trimmed())\n"
        if let verifiedAnswer { user += "\nVerified answer (computed with SymPy): \(verifiedAnswer).\n" }
        return [ChatMessage("system", plannerSystem.replacing("SCENES", with: count)), ChatMessage("user", user)]
    }

    /// Scene n's request: the lesson around it, then what this scene is to show.
    static func scene(problem: String, verifiedAnswer: String?, plan: [PlannedScene], n: Int, snippets: [String]) -> [ChatMessage] {
        var user = "The lesson's problem: \(problem.trimmed())\n"
        if let verifiedAnswer { user += "Verified answer (computed with SymPy): \(verifiedAnswer).\n" }
        user += "\nThe lesson's scenes:\n"
        for s in plan { user += "\(s.n). \(s.title): \(s.goal)\n" }
        let me = plan[n - 1]
        user += "\nWrite scene \(n), \"\(me.title)\". Name its class \(LessonPlanner.className(n)).\nWhat it shows: \(me.goal)\n"
        if !me.narration.isEmpty { user += "The narrator says, in order:\n" + me.narration.map { "- \($0)\n" }.joined() }
        if !snippets.isEmpty {
            user += "\nFrom the installed Manim's documentation, in case it helps:\n"
            for s in snippets { user += "---\n\(s)\n" }
        }
        return [ChatMessage("system", sceneSystem), ChatMessage("user", user)]
    }
}

enum LessonPlanner {
    static func className(_ n: Int) -> String { "Scene\(n)" }

    /// The plan in a planner's reply, or why it is not one. `want` is the scene count asked for.
    static func parse(_ reply: String, want: Int?) throws(ProviderFailure) -> [PlannedScene] {
        var text = reply
        // A reasoning model's thoughts, and a ```json fence, are not the plan.
        while let close = text.firstRange(of: "</think>") { text = String(text[close.upperBound...]) }
        guard let open = text.firstIndex(of: "{"), let close = text.lastIndex(of: "}"), open < close else {
            throw .noCode("the plan is not a JSON object")
        }
        guard let v = try? JSONValue.parse(Array(text[open...close].utf8)), let list = v.objectValue?["scenes"]?.arrayValue else {
            throw .noCode("the plan is not JSON with a \"scenes\" list")
        }
        let range = want.map { $0...$0 } ?? 2...Lesson.maxScenes
        guard range.contains(list.count) else {
            throw .noCode("the plan has \(list.count) scenes, not \(want.map(String.init) ?? "2 to \(Lesson.maxScenes)")")
        }
        func clean(_ s: String, _ limit: Int) -> String {
            String(String.UnicodeScalarView(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }).prefix(limit)).trimmed()
        }
        var scenes: [PlannedScene] = []
        for (i, item) in list.enumerated() {
            guard let o = item.objectValue, let title = o["title"]?.stringValue.map({ clean($0, 80) }), !title.isEmpty else {
                throw .noCode("scene \(i + 1) of the plan has no title")
            }
            let narration = (o["narration"]?.arrayValue ?? []).compactMap(\.stringValue).map { clean($0, 300) }.filter { !$0.isEmpty }
            scenes.append(PlannedScene(n: i + 1, title: title, goal: clean(o["goal"]?.stringValue ?? "", 400),
                                       narration: Array(narration.prefix(6)), status: .generating_code))
        }
        return scenes
    }
}

extension Codegen {
    /// One provider's lesson: its plan, then every scene's code (MATHREEL_MAX_SCENE_CONCURRENCY at once).
    func modelLesson(_ name: ProviderName, job: Job, problem: String, answer: String?, calls: inout [Call],
                     progress: (Job) -> Void = { _ in }) async throws -> Tried<LessonPlan> {
        guard let planner = settings.provider(name, for: .planner), let writer = settings.provider(name, for: .scene) else { return .failed(.noCode("not configured")) }
        let planned = await attempt(name, planner, job: job, calls: &calls, label: "plan") { p throws(ProviderFailure) in
            let reply = try await p.complete(Prompt.planner(problem: problem, context: job.followUpContext, verifiedAnswer: answer,
                                                            scenes: job.options.scenes), via: http)
            try? spool.artifacts(job.id).write(Array(reply.text.utf8), as: "plan-\(name.rawValue).txt")
            return try LessonPlanner.parse(reply.text, want: job.options.scenes)
        }
        var scenes: [PlannedScene]
        switch planned {
        case .done(let s): scenes = s
        case .resting: return .resting
        case .failed(let e): return .failed(e)
        }
        // The plan is shown at once, every scene `generating_code`, each turning `queued` as its code is written.
        var shown = job
        shown.reach(.planning, note: "\(scenes.count) scenes")
        shown.plan = LessonPlan(scenes: scenes)
        progress(shown)
        let snippets = self.snippets(for: problem)
        let width = max(1, config.maxSceneConcurrency)
        let dir = try spool.artifacts(job.id)
        var written: [Int: (code: String?, call: Call, error: String?)] = [:]
        let plan = scenes
        await withTaskGroup(of: (Int, String?, Call, String?).self) { group in
            var next = 0
            func add() {
                let n = next + 1
                next += 1
                group.addTask {
                    let start = ContinuousClock.now
                    let messages = Prompt.scene(problem: problem, verifiedAnswer: answer, plan: plan, n: n, snippets: snippets)
                    do throws(ProviderFailure) {
                        let code = try await generate(writer, messages, job: job, scene: n)
                        return (n, code, Call(provider: name.rawValue, outcome: "ok: scene \(n)", seconds: (ContinuousClock.now - start).seconds), nil)
                    } catch {
                        await breakers.failed(name, error)
                        return (n, nil, Call(provider: name.rawValue, outcome: "scene \(n): \(error.description)", seconds: (ContinuousClock.now - start).seconds), error.description)
                    }
                }
            }
            while next < min(width, plan.count) { add() }
            while let (n, code, call, error) = await group.next() {
                written[n] = (code, call, error)
                shown.plan?.scenes[n - 1].status = code == nil ? .error : .queued
                progress(shown)
                if next < plan.count { add() }
            }
        }
        for i in scenes.indices {
            let n = i + 1
            guard let w = written[n] else { continue }
            calls.append(w.call)
            scenes[i].attempts = attempts(job, scene: n)
            if let code = w.code {
                try dir.write(Array(code.utf8), as: Lesson.codeFile(n))
                scenes[i].status = .queued
                scenes[i].code = "artifacts/\(job.id)/\(Lesson.codeFile(n))"
                scenes[i].sceneClass = try await checker.check(code).scene
            } else {
                scenes[i].status = .error
                scenes[i].error = JobError(stage: "codegen", code: ErrorCode.codeRejected,
                                           message: "No code for scene \(n) passed the check: \(w.error ?? "")")
            }
        }
        guard scenes.contains(where: { $0.status == .queued }) else {
            return .failed(.noCode("no scene of the lesson could be written: \(written[1]?.error ?? "")"))
        }
        return .done(LessonPlan(scenes: scenes))
    }
}

extension Codegen {
    /// Scenes render sent back (`generating_code`): each rewritten alone by the model that
    /// wrote it first (then the chain's others), with its failing code and its error; the
    /// other scenes' code and videos stay as they are. A scene no model fixes gets its slate.
    func repairScenes(_ job: Job, _ plan: LessonPlan) async throws -> Outcome {
        var job = job, plan = plan
        let started = ContinuousClock.now
        let dir = try spool.artifacts(job.id)
        let problem = job.problem ?? ""
        let snippets = self.snippets(for: problem)
        let wrote = ProviderName(rawValue: job.codegen?.provider ?? "")
        let order = ((wrote.map { [$0] } ?? []) + settings.chain.filter { $0 != wrote }).filter { $0 != .offline }
        var calls: [Call] = [], notes: [String] = []
        for i in plan.scenes.indices where plan.scenes[i].status == .generating_code && (plan.scenes[i].error != nil || plan.scenes[i].edit != nil) {
            let n = i + 1
            if let words = plan.scenes[i].edit {
                switch try await editScene(job, plan: plan, n: n, words: words, order: order, snippets: snippets, calls: &calls) {
                case .code(let code):
                    try dir.write(Array(code.utf8), as: Lesson.codeFile(n))
                    plan.scenes[i].version += 1
                    plan.scenes[i].status = .queued
                    plan.scenes[i].sceneClass = try await checker.check(code).scene
                    plan.scenes[i].edit = nil
                    plan.scenes[i].attempts = attempts(job, scene: n)
                    notes.append("scene \(n) edited: \(words.prefix(200))")
                    continue
                case .later:
                    continue  // stays generating_code: tried again later
                case .failed(let e):
                    job.plan = plan
                    return .fail(job, e)
                }
            }
            let failing = String(decoding: dir.tail(Lesson.codeFile(n), limit: 1 << 20), as: UTF8.self)
            let log = String(decoding: dir.tail("scene-\(n).log", limit: 3_000), as: UTF8.self)
            let why = plan.scenes[i].error?.message ?? "The scene failed."
            let error = why + (log.isEmpty ? "" : "\n\nThe end of the render's log:\n" + log)
            var fixed: String?, laterMayWork = false
            for name in order {
                guard let provider = settings.provider(name, for: .scene) else { continue }
                let tried = await attempt(name, provider, job: job, calls: &calls, scene: n) {
                    Prompt.repair(Prompt.scene(problem: problem, verifiedAnswer: job.answer, plan: plan.scenes, n: n, snippets: snippets),
                                  code: failing, error: error)
                }
                if case .done(let code) = tried { fixed = code; break }
                if case .resting = tried { laterMayWork = true }
                if case .failed(let e) = tried { laterMayWork = laterMayWork || e.mayPassWithTime }
            }
            plan.scenes[i].attempts = attempts(job, scene: n)
            if let fixed {
                try dir.write(Array(fixed.utf8), as: Lesson.codeFile(n))
                plan.scenes[i].repairs += 1
                plan.scenes[i].version += 1
                plan.scenes[i].status = .queued
                plan.scenes[i].sceneClass = try await checker.check(fixed).scene
                notes.append("scene \(n) repaired after: \(why.prefix(200))")
            } else if !laterMayWork {
                plan.scenes[i].status = .error  // its slate stands in; the error it had says why
                notes.append("scene \(n) could not be repaired; its slate will stand in")
            }
        }
        job.plan = plan
        var codegen = job.codegen ?? CodegenRecord()
        codegen.calls = calls
        codegen.totalSeconds = (ContinuousClock.now - started).seconds
        job.codegen = codegen
        if plan.scenes.contains(where: { $0.status == .generating_code }) {
            // Every model is out for now: the scenes still waiting are tried again later.
            return .postpone(job, failure(ErrorCode.providersExhausted, "A scene of the lesson failed to render and every code-writing service is busy right now; its repair will be tried again in a few minutes."))
        }
        job.history.append(HistoryEntry(status: job.status.rawValue, by: "codegen", note: notes.joined(separator: "; ")))
        return .handOn(job, to: .render)
    }
}
