// SceneEdits: scene N of an edit (a new version of a lesson) written again. The
// built-in editor takes what its vocabulary covers; anything else goes to the model
// that wrote the scene, then the chain's others, with the scene's current code and
// the person's words. With no model configured, the edit fails as edit_needs_model.
import MathreelCore
import MathreelProviders

extension Prompt {
    /// The scene's request, its current code as the model's answer, then the change asked for.
    static func edit(_ messages: [ChatMessage], code: String, words: String) -> [ChatMessage] {
        messages + [
            ChatMessage("assistant", "```python\n\(code)\n```"),
            ChatMessage("user", """
                Change this scene as the person asks: \(words.prefix(2000))

                Change only what they ask; keep the rest of the scene, its class name and every rule above. \
                Reply with the whole file in one ```python block.
                """),
        ]
    }
}

extension Codegen {
    enum Edited {
        case code(String)
        /// Every model that could make it is out for now.
        case later
        case failed(JobError)
    }

    /// The edited scene's code, checked.
    func editScene(_ job: Job, plan: LessonPlan, n: Int, words: String, order: [ProviderName], snippets: [String],
                   calls: inout [Call]) async throws -> Edited {
        let dir = try spool.artifacts(job.id)
        let current = String(decoding: dir.tail(Lesson.codeFile(n), limit: 1 << 20), as: UTF8.self)
        var why = "it is not one of the changes it knows"
        if let change = OfflineEditor.understand(words), let cls = plan.scenes[n - 1].sceneClass {
            switch OfflineEditor.apply(change, to: current, scene: cls) {
            case .edited(let code, let scene):
                let check = try await checker.check(code, scene: scene)
                if check.valid {
                    saveAttempt(job, check.code, scene: n)
                    calls.append(Call(provider: "offline", outcome: "ok: scene \(n) edited", seconds: 0))
                    return .code(check.code)
                }
                // Our own edit failing our own check is a bug; a model may still make it.
                logger.error("the built-in editor's scene failed the static check", metadata: ["job_id": "\(job.id)", "scene": "\(n)", "errors": "\(check.message)"])
                why = "its edit did not pass the check (please report it)"
            case .refused(let reason):
                why = reason
            }
        }
        guard !order.isEmpty else {
            return .failed(failure(ErrorCode.editNeedsModel, "The built-in editor cannot make that change to scene \(n) (\(why)). It understands: \(OfflineEditor.vocabulary). For any other change, configure a model: set MATHREEL_PROVIDERS and its key in mathreel.env (README, \"Models\"), then edit again."))
        }
        let problem = job.problem ?? ""
        var later = false, last = ""
        for name in order {
            guard let provider = settings.provider(name, for: .scene) else { continue }
            let tried = await attempt(name, provider, job: job, calls: &calls, scene: n) {
                Prompt.edit(Prompt.scene(problem: problem, verifiedAnswer: job.answer, plan: plan.scenes, n: n, snippets: snippets),
                            code: current, words: words)
            }
            switch tried {
            case .done(let code): return .code(code)
            case .resting: later = true
            case .failed(let e): later = later || e.mayPassWithTime; last = "\(name.rawValue): \(e.description)"
            }
        }
        if later { return .later }
        return .failed(failure(ErrorCode.providersExhausted, "No model could make the change to scene \(n) (\(last.prefix(300))). Try the edit again, or put it in other words."))
    }
}
